from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation

from rapport.accounts.forms import NewPasswordForm
from rapport.accounts.models import Role
from rapport.audit.models import Action


class CaseSummaryForm(forms.Form):
    summary = forms.CharField(
        label="Working summary",
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Visible only to you. Stored encrypted.",
    )


class StaffInviteForm(forms.Form):
    full_name = forms.CharField(label="Full name", max_length=150)
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(
        label="Role",
        choices=[(Role.THERAPIST, "Therapist"), (Role.SUPERVISOR, "Supervisor"), (Role.PRACTICE_ADMIN, "Practice admin")],
    )


class InvitationAcceptForm(NewPasswordForm):
    full_name = forms.CharField(label="Your full name", max_length=150)
    field_order = ["full_name", "password1", "password2"]

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        # A mismatch is already reported on the second field; otherwise the validators judge the first.
        if first and not (second and first != second):
            from rapport.accounts.models import User

            candidate = User(email=self.email, full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class AuditFilterForm(forms.Form):
    # Filters come from allow-lists only: no field name or sort order is ever taken from the request.
    action = forms.ChoiceField(choices=[("", "All actions"), *Action.choices], required=False)
    page = forms.IntegerField(min_value=1, required=False)
