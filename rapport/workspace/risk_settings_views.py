"""The practice admin's page for risk follow-up: the wait before an alert escalates, who is on call,
and the crisis resources clients are shown when they give a risk answer.

Admins only (403 for everyone else). The page names no client. A refusal shows the page again with
what was typed and a message, and saves nothing (``practice_risk_settings_set``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role
from rapport.practice.models import Practice, Therapist
from rapport.practice.services import (
    CRISIS_FIELD_LIMITS,
    CRISIS_RESOURCES_MAX,
    RISK_ESCALATION_MAX,
    RISK_ESCALATION_MIN,
    CrisisResource,
    practice_risk_settings_set,
)
from rapport.workspace.views import _practice_of

_BOUNDS = f"Between {RISK_ESCALATION_MIN} and {RISK_ESCALATION_MAX} minutes."


def _on_call_choices(practice: Practice) -> QuerySet[Therapist]:
    return Therapist.objects.filter(practice=practice, is_active=True, user__is_active=True).select_related("user").order_by("display_name")


class RiskSettingsForm(forms.Form):
    escalation_minutes = forms.IntegerField(
        label="Minutes before an unacknowledged alert escalates",
        min_value=RISK_ESCALATION_MIN,
        max_value=RISK_ESCALATION_MAX,
        help_text=f"{_BOUNDS} The client's therapist is emailed at once; if nobody acknowledges the alert within this time, it goes on.",
        error_messages={
            "required": f"Give the number of minutes. {_BOUNDS}",
            "invalid": f"Give a whole number of minutes. {_BOUNDS}",
            "min_value": f"That is too short. {_BOUNDS}",
            "max_value": f"That is too long for a risk answer to wait. {_BOUNDS}",
        },
    )
    on_call = forms.ModelChoiceField(
        label="Who receives escalated alerts",
        queryset=Therapist.objects.none(),
        required=False,
        to_field_name="public_id",
        empty_label="No one on call: every active practice admin",
        error_messages={"invalid_choice": "Choose one of the practice's active therapists, or no one."},
    )

    def __init__(self, *args: Any, practice: Practice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["on_call"].queryset = _on_call_choices(practice)  # type: ignore[attr-defined]


class CrisisResourceForm(forms.Form):
    name = forms.CharField(label="Name", required=False, max_length=CRISIS_FIELD_LIMITS["name"])
    contact = forms.CharField(
        label="How to reach it",
        required=False,
        max_length=CRISIS_FIELD_LIMITS["contact"],
        help_text="A phone number, text line or web address.",
    )
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=CRISIS_FIELD_LIMITS["note"], help_text="e.g. 24 hours, free."
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name, contact, note = (cleaned.get(f, "").strip() for f in ("name", "contact", "note"))
        if (name or contact or note) and not (name and contact):
            raise forms.ValidationError("A resource needs both its name and how to reach it; clear the whole row to leave it out.")
        return cleaned

    def resource(self) -> CrisisResource | None:
        name = self.cleaned_data.get("name", "").strip()
        if not name:
            return None
        return CrisisResource(name=name, contact=self.cleaned_data["contact"], note=self.cleaned_data.get("note", ""))


CrisisResourceFormSet = forms.formset_factory(
    CrisisResourceForm, extra=2, max_num=CRISIS_RESOURCES_MAX, validate_max=True, absolute_max=CRISIS_RESOURCES_MAX
)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required([Role.PRACTICE_ADMIN])
def risk_settings(request: HttpRequest) -> HttpResponse:
    actor = signed_in_user(request)
    practice = _practice_of(actor)
    status = 200
    if request.method == "POST":
        form = RiskSettingsForm(request.POST, practice=practice)
        resources = CrisisResourceFormSet(request.POST, prefix="crisis")
        if form.is_valid() and resources.is_valid():
            try:
                practice_risk_settings_set(
                    actor=actor,
                    practice=practice,
                    escalation_minutes=form.cleaned_data["escalation_minutes"],
                    on_call_therapist=form.cleaned_data["on_call"],
                    crisis_resources=[r for row in resources.forms if (r := row.resource()) is not None],
                )
            except PermissionError as exc:
                raise PermissionDenied(str(exc)) from None
            except ValidationError as exc:
                form.add_error(None, exc.messages[0])
            else:
                messages.success(request, "Risk follow-up settings saved.")
                # 303: a reload shows the settings instead of saving them again.
                return HttpResponseRedirect(reverse("workspace:risk_settings"), status=303)
        status = 400
    else:
        form = RiskSettingsForm(
            practice=practice,
            initial={
                "escalation_minutes": practice.risk_escalation_minutes,
                "on_call": practice.on_call_therapist.public_id if practice.on_call_therapist else None,
            },
        )
        resources = CrisisResourceFormSet(prefix="crisis", initial=list(practice.crisis_resources or []))
    return render(request, "workspace/risk_settings.html", {"form": form, "resources": resources, "practice": practice}, status=status)
