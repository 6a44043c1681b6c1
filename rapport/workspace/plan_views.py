"""The therapist's page for a case's treatment plan (docs/plans.md, "The therapist's page").

Reached through ``named_case_get`` like every page that names a case's clients: another practice's
case, or a case the therapist does not treat, is 404; a practice admin or supervisor, 403. Only the
case's primary therapist may write. Every form posts to the plan page itself and carries a
``form`` field naming it; items are named by the public id of the wording the therapist was shown,
so a form sent after someone else changed the item is refused as stale rather than applied to words
the therapist never saw. A refused form shows the page again with the error beside it and the text
as typed, and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES, User
from rapport.clients.models import Case, Client
from rapport.clients.selectors import case_members
from rapport.plans import gas
from rapport.plans.models import GAS_LEVELS, Choice, GoalRating, ItemRevision
from rapport.plans.selectors import (
    AgreementState,
    AgreementStatus,
    ItemView,
    PlanView,
    items_needing_attention,
    plan_for_viewer,
    plan_versions,
    revision_get_for_user,
)
from rapport.plans.services import action_step_add, goal_rate, plan_add_approach, plan_item_remove, plan_item_revise, plan_propose_goal
from rapport.plans.sessions import rating_session_choices, session_for_rating, sessions_by_id
from rapport.reports.charts import written_date
from rapport.scheduling.models import Appointment
from rapport.workspace.named_cases import named_case_get, viewer_zone

# Field names of the five levels: "level_-2" reads badly in a URL-encoded body but is unambiguous.
LEVEL_FIELDS = {level: f"level_{level}" for level in GAS_LEVELS}
_CHOICE_LABELS = dict(Choice.choices)
_LEVEL_CHOICES = [(str(level), f"{level:+d}" if level else "0") for level in GAS_LEVELS]


def _owner_field(members: list[Client], *, label: str, joint_label: str) -> forms.ChoiceField:
    choices = [("", joint_label)] + [(str(c.public_id), c.full_name) for c in members]
    return forms.ChoiceField(label=label, choices=choices, required=False)


class GoalForm(forms.Form):
    words = forms.CharField(label="The goal, in the words agreed with the client", widget=forms.Textarea(attrs={"rows": 3}))
    framing = forms.CharField(
        label="Your framing beside it (optional; the clients see it)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    weight = forms.IntegerField(label="Weight (optional, 1 to 100)", required=False, min_value=1, max_value=100)

    def __init__(self, *args: Any, members: list[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(members) > 1:
            self.fields["owner"] = _owner_field(members, label="Whose goal", joint_label="Joint: both partners")
        for level, name in LEVEL_FIELDS.items():
            meaning = gas.LEVEL_MEANINGS[level]
            self.fields[name] = forms.CharField(
                label=f"Level {level:+d}: {meaning}" if level else f"Level 0: {meaning} (the expected outcome)", required=False
            )

    def levels(self) -> dict[str, str] | None:
        """The five descriptions, or None when all are blank (a goal may wait for its scale)."""
        levels = {str(level): self.cleaned_data[name] for level, name in LEVEL_FIELDS.items()}
        return levels if any(text.strip() for text in levels.values()) else None


class ApproachForm(forms.Form):
    words = forms.CharField(label="How you will work, in the words agreed with the client", widget=forms.Textarea(attrs={"rows": 3}))
    framing = forms.CharField(
        label="Your framing beside it (optional; the clients see it)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, members: list[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(members) > 1:
            self.fields["owner"] = _owner_field(members, label="Whose", joint_label="Joint: both partners")


class ItemForm(forms.Form):
    revision = forms.UUIDField(widget=forms.HiddenInput)


class FramingForm(ItemForm):
    framing = forms.CharField(label="Your framing", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # Only offered for words the therapist wrote; the service refuses anyone else's.
    words = forms.CharField(label="The words", required=False, widget=forms.Textarea(attrs={"rows": 2}))


NOT_LINKED = "Not linked to a session"


class RateForm(ItemForm):
    level = forms.TypedChoiceField(label="Where the goal stands today", choices=_LEVEL_CHOICES, coerce=int, widget=forms.RadioSelect)
    session = forms.ChoiceField(
        label="The session this rating is for",
        required=False,
        error_messages={
            "invalid_choice": "That is not one of this case's sessions. Choose one from the list, or “Not linked to a session”."
        },
    )

    def __init__(self, *args: Any, sessions: list[SessionChoice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        session = self.fields["session"]
        assert isinstance(session, forms.ChoiceField)
        session.choices = [("", NOT_LINKED)] + [(choice.value, choice.label) for choice in sessions]
        self._sessions = {choice.value: choice.appointment for choice in sessions}

    def appointment(self) -> Appointment | None:
        """The chosen session, or None for "not linked"; only ever one of the case's offered sessions."""
        return self._sessions.get(self.cleaned_data.get("session") or "")


@dataclass(frozen=True)
class SessionChoice:
    value: str  # the appointment's public id
    label: str  # "Tuesday 3 March 2026, 10:00 (held)"
    appointment: Appointment


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SESSION_STATUS = {"completed": "held", "booked": "booked"}


def _session_choices(case: Case, zone: ZoneInfo) -> tuple[list[SessionChoice], str]:
    """The sessions a rating may be linked to, newest first, and the one offered by default.

    The default is today's session or the last one within ``rapport.plans.sessions.LINK_WITHIN_DAYS``
    days, the same rule that links a client's own rating; "" (not linked) otherwise.
    """
    now = timezone.now()
    choices = []
    for appointment in rating_session_choices(case, now):
        local = appointment.start.astimezone(zone)
        label = f"{_WEEKDAYS[local.weekday()]} {written_date(local)}, {local:%H:%M} ({_SESSION_STATUS.get(appointment.status, appointment.status)})"
        choices.append(SessionChoice(value=str(appointment.public_id), label=label, appointment=appointment))
    default = session_for_rating(case, now)
    offered = {choice.value for choice in choices}
    return choices, str(default.public_id) if default is not None and str(default.public_id) in offered else ""


def _zone(user: User, case: Case) -> ZoneInfo:
    return ZoneInfo(viewer_zone(user, case))


class StepForm(ItemForm):
    text = forms.CharField(label="A small step", max_length=500)
    due_on = forms.DateField(label="Due (optional, YYYY-MM-DD)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    step_for = forms.ChoiceField(label="For", required=False)

    def __init__(self, *args: Any, members: list[Client], owner: Client | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A step on a partner's own goal is hers; on a joint goal, for either partner or both.
        choices = [(str(c.public_id), c.full_name) for c in ([owner] if owner is not None else members)]
        if owner is None and len(members) > 1:
            choices.insert(0, ("", "Both partners"))
        step_for = self.fields["step_for"]
        assert isinstance(step_for, forms.ChoiceField)
        step_for.choices = choices if len(choices) > 1 else [("", choices[0][1] if choices else "")]


@dataclass(frozen=True)
class Answer:
    name: str
    choice_label: str
    comment: str | None


@dataclass
class Row:
    """One item as the page shows it, with its forms (bound if this item's form was just refused)."""

    view: ItemView
    label: str
    latest: list[tuple[str, GoalRating]] = field(default_factory=list)
    # The same ratings with the date of the session each was linked to ("" when none), for the page.
    latest_lines: list[tuple[str, GoalRating, str]] = field(default_factory=list)
    forms: dict[str, forms.Form] = field(default_factory=dict)
    error: str = ""
    error_form: str = ""
    therapist_wrote: bool = False
    status_text: str = ""
    levels: list[tuple[str, str]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)


def _status_text(state: AgreementState, joint_couple: bool) -> str:
    if state.status == AgreementStatus.AGREED:
        return "Fully agreed"
    if state.status == AgreementStatus.WAITING:
        return "Waiting for " + " and ".join(c.full_name for c in state.waiting_for)
    choices = {a.choice for a in state.answers if a.choice is not None}
    if joint_couple and len(choices) > 1:
        return "A difference: the partners answered differently"
    return "A difference: someone wants to talk about it or does not agree"


def _scope_label(view: ItemView, couple: bool) -> str:
    if view.item.owner is not None:
        return f"{view.item.owner.full_name}'s own"
    return "Joint" if couple else "The client's"


def _latest_ratings(view: ItemView, members: list[Client]) -> list[tuple[str, GoalRating]]:
    """The newest rating by the therapist and by each client, in that order."""
    newest: dict[int | None, GoalRating] = {}
    for rating in view.ratings:
        newest[rating.client_id] = rating
    found = []
    if None in newest:
        found.append(("Therapist", newest[None]))
    found += [(c.full_name, newest[c.pk]) for c in members if c.pk in newest]
    return found


@dataclass(frozen=True)
class TScore:
    value: float
    ratings: list[tuple[str, int, Any]]  # (goal words, level, rated at) of the ratings it uses
    weighted: bool


def _t_score(goals: list[ItemView]) -> TScore | None:
    """The plan's T-score over each goal's newest therapist rating, when every goal has one."""
    used = []
    for view in goals:
        therapist = [r for r in view.ratings if r.client_id is None]
        if not therapist:
            return None
        used.append((view, therapist[-1]))
    if not used:
        return None
    # docs/gas.md: a goal without a weight of its own weighs 1, like every goal when none has one.
    weights = [view.revision.weight or 1 for view, _ in used]
    value = gas.t_score([r.level for _, r in used], weights)
    return TScore(
        value=value,
        ratings=[(view.revision.client_words, r.level, r.rated_at) for view, r in used],
        weighted=any(view.revision.weight for view, _ in used),
    )


def _rows(
    plan: PlanView,
    members: list[Client],
    user: User,
    bound: tuple[str, str, forms.Form, str] | None,
    *,
    zone: ZoneInfo,
    sessions: tuple[list[SessionChoice], str] = ([], ""),
) -> tuple[list[Row], list[Row]]:
    couple = len(members) > 1
    session_list, default_session = sessions
    # One query for the sessions of every rating shown, however many goals there are.
    linked = sessions_by_id(r.appointment_id for view in plan.goals for r in view.ratings)
    goals: list[Row] = []
    approaches: list[Row] = []
    for views, into in ((plan.goals, goals), (plan.approaches, approaches)):
        for view in views:
            rid = str(view.revision.public_id)
            row = Row(
                view=view,
                label=_scope_label(view, couple),
                therapist_wrote=view.revision.written_by_id == user.pk,
                status_text=_status_text(view.agreement, couple and view.item.owner is None),
            )
            row.latest = _latest_ratings(view, members)
            row.latest_lines = [
                (who, rating, written_date(linked[rating.appointment_id].start.astimezone(zone)) if rating.appointment_id in linked else "")
                for who, rating in row.latest
            ]
            row.answers = [
                Answer(
                    name=a.client.full_name, choice_label=_CHOICE_LABELS[a.choice] if a.choice else "not answered yet", comment=a.comment
                )
                for a in view.agreement.answers
            ]
            if view.revision.gas_levels:
                row.levels = [
                    (
                        f"{level:+d} ({gas.LEVEL_MEANINGS[level]})" if level else f"0 ({gas.LEVEL_MEANINGS[0]})",
                        view.revision.gas_levels.get(str(level), ""),
                    )
                    for level in GAS_LEVELS
                ]
            initial = {"revision": rid}
            row.forms["framing"] = FramingForm(
                initial={**initial, "framing": view.revision.therapist_framing, "words": view.revision.client_words},
                auto_id=f"id_framing_{rid}_%s",
            )
            row.forms["remove"] = ItemForm(initial=initial, auto_id=f"id_remove_{rid}_%s")
            if view.item.kind == "goal":
                row.forms["rate"] = RateForm(
                    initial={**initial, "session": default_session}, auto_id=f"id_rate_{rid}_%s", sessions=session_list
                )
                row.forms["step"] = StepForm(initial=initial, auto_id=f"id_step_{rid}_%s", members=members, owner=view.item.owner)
            if bound is not None and bound[1] == rid:
                name, _, form, error = bound
                row.forms[name] = form
                row.error, row.error_form = error, name
            into.append(row)
    return goals, approaches


def _page(
    request: HttpRequest,
    case: Case,
    *,
    bound: tuple[str, str, forms.Form, str] | None = None,
    new_form: GoalForm | ApproachForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    members = [m.client for m in case_members(case)]
    plan = plan_for_viewer(user, case.public_id, request=request)
    zone = _zone(user, case)
    goals, approaches = _rows(plan, members, user, bound, zone=zone, sessions=_session_choices(case, zone))
    if bound is not None and not any(row.error for row in goals + approaches):
        # The wording the form named is no longer shown (changed or removed meanwhile): say so on top.
        error = bound[3]
    attention = {view.item.pk for view in items_needing_attention(case)}
    needing = [row for row in goals + approaches if row.view.item.pk in attention]
    context = {
        "case": case,
        "members": members,
        "plan": plan,
        "goals": goals,
        "approaches": approaches,
        "needing": needing,
        "t_score": _t_score(plan.goals),
        "may_change": case.primary_therapist.user_id == user.pk,
        "goal_form": new_form if isinstance(new_form, GoalForm) else GoalForm(members=members, auto_id="id_goal_%s"),
        "approach_form": new_form if isinstance(new_form, ApproachForm) else ApproachForm(members=members, auto_id="id_approach_%s"),
        "error": error,
        "zone": str(zone),
    }
    return render(request, "workspace/case_plan.html", context, status=status)


def _owner(form: forms.Form, members: list[Client]) -> Client | None:
    chosen = form.cleaned_data.get("owner") or ""
    return next((c for c in members if str(c.public_id) == chosen), None)


def _revision_of_case(user: User, case: Case, revision_id: uuid.UUID) -> ItemRevision:
    """The wording named by a form, 404 for a tampered id or another case's item."""
    revision = revision_get_for_user(user, revision_id)
    if revision.item.plan.case_id != case.pk:
        raise Http404("No such item in this plan")
    return revision


def _first_error(form: forms.Form) -> str:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return f"{label}: {errors[0]}" if label and name != "__all__" else str(errors[0])
    return "Please check the form."


_DONE = {
    "goal": "Goal added. Each client it concerns is asked whether they agree.",
    "approach": "Added to how you work. Each client it concerns is asked whether they agree.",
    "framing": "Saved. The item's wording changed, so agreement on it starts again.",
    "remove": "Removed from the plan. Earlier versions still show it.",
    "rate": "Rating saved.",
    "step": "Step added.",
}


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(STAFF_ROLES)
def case_plan(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    # plan_for_viewer records the read (as a read of the plan), so the door records none itself.
    case = named_case_get(user, case_id)
    if request.method != "POST":
        return _page(request, case)
    if case.primary_therapist.user_id != user.pk:
        raise PermissionDenied("Only the therapist of this case can change its plan.")
    members = [m.client for m in case_members(case)]
    which = request.POST.get("form", "")
    try:
        if which in ("goal", "approach"):
            form_class = GoalForm if which == "goal" else ApproachForm
            form: GoalForm | ApproachForm = form_class(request.POST, members=members, auto_id=f"id_{which}_%s")
            if not form.is_valid():
                return _page(request, case, error=f"{_first_error(form)} Nothing was changed.", status=400, new_form=form)
            try:
                if isinstance(form, GoalForm):
                    plan_propose_goal(
                        actor=user,
                        case=case,
                        words=form.cleaned_data["words"],
                        owner=_owner(form, members),
                        framing=form.cleaned_data["framing"],
                        gas_levels=form.levels(),
                        weight=form.cleaned_data["weight"],
                    )
                else:
                    plan_add_approach(
                        actor=user,
                        case=case,
                        words=form.cleaned_data["words"],
                        owner=_owner(form, members),
                        framing=form.cleaned_data["framing"],
                    )
            except (ValidationError, PermissionDenied) as exc:
                return _page(request, case, error=f"{_message(exc)} Nothing was changed.", status=400, new_form=form)
        elif which in ("framing", "remove", "rate", "step"):
            _item_form(request, case, user, members, which)
        else:
            return _page(request, case, error="This page has no such form. Nothing was changed.", status=400)
    except _Refused as refused:
        return _page(request, case, bound=refused.bound, status=400)
    messages.success(request, _DONE[which])
    # 303: a reload shows the plan instead of sending the form again.
    return HttpResponseRedirect(reverse("workspace:case_plan", kwargs={"case_id": case.public_id}), status=303)


class _Refused(Exception):
    def __init__(self, bound: tuple[str, str, forms.Form, str]) -> None:
        self.bound = bound


def _message(exc: ValidationError | PermissionDenied) -> str:
    return exc.messages[0] if isinstance(exc, ValidationError) else str(exc)


def _item_form(request: HttpRequest, case: Case, user: User, members: list[Client], which: str) -> None:
    """Apply one of the per-item forms, or raise _Refused with the form bound as typed."""
    revision_id = request.POST.get("revision", "")
    try:
        parsed = uuid.UUID(revision_id)
    except ValueError:
        raise Http404("No such item in this plan") from None
    revision = _revision_of_case(user, case, parsed)
    rid = str(revision.public_id)
    form: forms.Form
    if which == "framing":
        form = FramingForm(request.POST, auto_id=f"id_framing_{rid}_%s")
    elif which == "remove":
        form = ItemForm(request.POST, auto_id=f"id_remove_{rid}_%s")
    elif which == "rate":
        form = RateForm(request.POST, auto_id=f"id_rate_{rid}_%s", sessions=_session_choices(case, _zone(user, case))[0])
    else:
        form = StepForm(request.POST, auto_id=f"id_step_{rid}_%s", members=members, owner=revision.item.owner)
    if not form.is_valid():
        raise _Refused((which, rid, form, f"{_first_error(form)} Nothing was changed."))
    data = form.cleaned_data
    try:
        if which == "framing":
            changes: dict[str, Any] = {"framing": data["framing"]}
            # A blank or unchanged words field leaves the words alone; anything else goes to the
            # service, which refuses to let anyone but their author rewrite them.
            if data["words"] and data["words"] != revision.client_words:
                changes["words"] = data["words"]
            plan_item_revise(actor=user, revision=revision, **changes)
        elif which == "remove":
            plan_item_remove(actor=user, revision=revision)
        elif which == "rate":
            assert isinstance(form, RateForm)
            goal_rate(actor=user, item=revision.item, level=data["level"], appointment=form.appointment())
        else:
            step_for = next((c for c in members if str(c.public_id) == data["step_for"]), None)
            action_step_add(actor=user, item=revision.item, text=data["text"], client=step_for, due_on=data["due_on"])
    except (ValidationError, PermissionDenied) as exc:
        raise _Refused((which, rid, form, f"{_message(exc)} Nothing was changed.")) from None


@require_GET
@role_required(STAFF_ROLES)
def case_plan_versions(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    # The notes carry no clinical text, but the page names the clients: recorded as a read.
    case = named_case_get(user, case_id, request=request)
    context = {
        "case": case,
        "members": [m.client for m in case_members(case)],
        "versions": plan_versions(user, case.public_id),
        "zone": viewer_zone(user, case),
    }
    return render(request, "workspace/case_plan_versions.html", context)


@require_GET
@role_required(STAFF_ROLES)
def case_plan_version(request: HttpRequest, case_id: uuid.UUID, number: int) -> HttpResponse:
    user = signed_in_user(request)
    case = named_case_get(user, case_id)
    members = [m.client for m in case_members(case)]
    plan = plan_for_viewer(user, case.public_id, version=number, request=request)
    zone = _zone(user, case)
    goals, approaches = _rows(plan, members, user, None, zone=zone)
    context = {"case": case, "members": members, "plan": plan, "goals": goals, "approaches": approaches, "zone": str(zone)}
    return render(request, "workspace/case_plan_version.html", context)
