"""The client's side of a case's treatment plan (docs/plans.md, "The client's page").

One page per case, as the signed-in client may see it (``plan_for_viewer``): the joint items and
their own, never the other partner's. The page's forms post back to it with an ``action``: propose
a goal, answer on an item, rate a goal, add or check off a step, reword one's own goal or write its
levels. Every id in a form is looked up again for this user (a tampered or the other partner's id
is 404), and must belong to this case. A refusal shows the page again with the message and the
typed text, and changes nothing.

The plan's history lists the changes this client may see (``plan_versions``: the joint items and
their own), numbered in that list, so neither a number nor a date gives away a change to the other
partner's own items; each entry opens the plan as it stood then.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role, User
from rapport.clients.models import Case, CaseKind, Client
from rapport.clients.selectors import case_get_for_user
from rapport.plans.models import GAS_LEVELS, Choice, ItemKind, ItemScope, PlanVersion
from rapport.plans.people import client_in_case
from rapport.plans.selectors import (
    AgreementStatus,
    ItemView,
    plan_for_viewer,
    plan_versions,
    revision_get_for_user,
    step_get_for_user,
)
from rapport.plans.services import (
    action_step_add,
    action_step_complete,
    goal_rate,
    plan_agree_item,
    plan_item_revise,
    plan_propose_goal,
)
from rapport.plans.sessions import session_for_rating

UNKNOWN_ACTION = "Something went wrong with this form. Please try again from the page."
LEVEL_WORDS = {
    -2: "much less than expected",
    -1: "somewhat less than expected",
    0: "what we expect",
    1: "somewhat more than expected",
    2: "much more than expected",
}


@dataclass
class Failed:
    """A refused form: which one, its message, and what was typed, to show it again."""

    action: str
    message: str
    target: str = ""
    values: dict[str, str] = field(default_factory=dict)


def _signed(level: int) -> str:
    return f"+{level}" if level > 0 else str(level)


def _agreement_words(view: ItemView, me: Client) -> str:
    state = view.agreement
    if state.status == AgreementStatus.AGREED:
        return "Fully agreed"
    if state.status == AgreementStatus.DIFFERENCE:
        return "There is a difference to talk about"
    if any(c.pk == me.pk for c in state.waiting_for):
        return "Waiting for your answer"
    return "Waiting for " + " and ".join(c.full_name for c in state.waiting_for)


def _kept(failed: Failed | None, action: str, target: str) -> dict[str, str] | None:
    """What was typed into this very form, if it is the one refused."""
    if failed is None or failed.action != action or failed.target != target:
        return None
    return {"message": failed.message, **failed.values}


def _item_context(view: ItemView, user: User, me: Client, failed: Failed | None) -> dict[str, Any]:
    revision = view.revision
    target = str(revision.public_id)
    mine = next((a for a in view.agreement.answers if a.client.pk == me.pk), None)
    others = [a for a in view.agreement.answers if a.client.pk != me.pk]
    levels = revision.gas_levels or {}
    own_ratings = [r for r in view.ratings if r.client_id == me.pk]
    therapist_ratings = [r for r in view.ratings if r.client_id is None]
    return {
        "view": view,
        "id": target,
        "words": revision.client_words,
        "framing": revision.therapist_framing,
        "by_me": revision.written_by_id == user.pk,
        "author": revision.written_by.full_name,
        "own": view.item.scope == ItemScope.INDIVIDUAL,
        "status": view.agreement.status.value,
        "status_words": _agreement_words(view, me),
        "my_choice": None if mine is None else mine.choice,
        "my_choice_label": None if mine is None or mine.choice is None else Choice(mine.choice).label,
        "my_comment": None if mine is None else mine.comment,
        "others": [
            {"name": a.client.full_name, "label": "has not answered yet" if a.choice is None else Choice(a.choice).label} for a in others
        ],
        "levels": [
            {"value": str(level), "signed": _signed(level), "text": levels.get(str(level), ""), "meaning": LEVEL_WORDS[level]}
            for level in GAS_LEVELS
        ],
        "my_rating": own_ratings[-1] if own_ratings else None,
        "therapist_rating": therapist_ratings[-1] if therapist_ratings else None,
        "steps": [
            {"view": step, "id": str(step.step.public_id), "kept": _kept(failed, "step", str(step.step.public_id))} for step in view.steps
        ],
        "kept_answer": _kept(failed, "answer", target),
        "kept_rating": _kept(failed, "rate", target),
        "kept_step": _kept(failed, "add_step", target),
        "kept_reword": _kept(failed, "reword", target),
        "kept_levels": _kept(failed, "levels", target),
        "level_fields": _level_fields(levels, _kept(failed, "levels", target)),
    }


def _level_fields(levels: dict[str, str], kept: dict[str, str] | None) -> list[dict[str, str]]:
    """The five level descriptions to edit: as typed into a refused form, or as they stand."""
    return [
        {
            "name": f"level_{level}",
            "slug": f"m{-level}" if level < 0 else f"p{level}",
            "signed": _signed(level),
            "meaning": LEVEL_WORDS[level],
            "value": kept.get(f"level_{level}", "") if kept is not None else levels.get(str(level), ""),
        }
        for level in GAS_LEVELS
    ]


def _today(me: Client) -> datetime.date:
    return timezone.localdate(timezone=ZoneInfo(me.time_zone))


def _page(request: HttpRequest, user: User, case: Case, me: Client, *, failed: Failed | None = None, status: int = 200) -> HttpResponse:
    plan = plan_for_viewer(user, case.public_id, request=request)
    visible = plan_versions(user, case.public_id)
    context = {
        "case": case,
        "me": me,
        "plan": plan,
        "goals": [_item_context(v, user, me, failed) for v in plan.goals],
        "approaches": [_item_context(v, user, me, failed) for v in plan.approaches],
        "couple": case.kind == CaseKind.COUPLE,
        "choices": Choice.choices,
        "failed": failed,
        "kept_proposal": _kept(failed, "propose", ""),
        "signed_levels": [(str(level), _signed(level)) for level in GAS_LEVELS],
        "today": _today(me),
        # The newest change this client may see: the plan's newest version may be a change to the
        # other partner's own items, whose date is not theirs to know.
        "changes": len(visible),
        "last_change": visible[0] if visible else None,
    }
    return render(request, "portal/plan.html", context, status=status)


def _revision_in_case(user: User, case: Case, raw_id: str) -> Any:
    revision = revision_get_for_user(user, raw_id)
    if revision.item.plan.case_id != case.pk:
        raise Http404("No such item")
    return revision


def _act(request: HttpRequest, user: User, case: Case, me: Client, action: str) -> tuple[str, Failed | None]:
    """Does what the form asks; returns the message for the next page, or what was refused."""
    post = request.POST
    target = post.get("item", "") or post.get("step", "")
    if action == "propose":
        words = post.get("words", "")
        scope = post.get("scope", "joint")
        values = {"words": words, "scope": scope}
        if scope not in ("joint", "own"):
            return "", Failed(action, UNKNOWN_ACTION, values=values)
        try:
            plan_propose_goal(actor=user, case=case, words=words, owner=me if scope == "own" else None)
        except ValidationError as exc:
            return "", Failed(action, exc.messages[0], values=values)
        return "Your goal is on the plan, in your words.", None
    if action == "answer":
        revision = _revision_in_case(user, case, target)
        choice, comment = post.get("choice", ""), post.get("comment", "")
        values = {"choice": choice, "comment": comment}
        try:
            plan_agree_item(actor=user, revision=revision, choice=choice, comment=comment)
        except ValidationError as exc:
            return "", Failed(action, exc.messages[0], target=target, values=values)
        return "Your answer is saved. Your therapist will see it.", None
    if action == "rate":
        revision = _revision_in_case(user, case, target)
        raw = post.get("level", "")
        values = {"level": raw}
        if revision.item.kind != ItemKind.GOAL:
            return "", Failed(action, "Only goals are rated.", target=target, values=values)
        try:
            level = int(raw)
        except ValueError:
            return "", Failed(action, "Choose where this goal stands: one of -2, -1, 0, +1 or +2.", target=target, values=values)
        try:
            goal_rate(actor=user, item=revision.item, level=level, appointment=session_for_rating(case, timezone.now()))
        except ValidationError as exc:
            return "", Failed(action, exc.messages[0], target=target, values=values)
        return "Your rating is saved.", None
    if action == "step":
        step = step_get_for_user(user, target)
        if step.item.plan.case_id != case.pk:
            raise Http404("No such step")
        reflection = post.get("reflection", "")
        try:
            action_step_complete(actor=user, step=step, reflection=reflection)
        except ValidationError as exc:
            return "", Failed(action, exc.messages[0], target=target, values={"reflection": reflection})
        return "Step checked off. Well done.", None
    if action == "add_step":
        return _add_step(user, case, me, target, post)
    if action == "reword":
        revision = _revision_in_case(user, case, target)
        words = post.get("words", "")
        try:
            plan_item_revise(actor=user, revision=revision, words=words)
        except (ValidationError, PermissionDenied) as exc:
            return "", Failed(action, _message(exc), target=target, values={"words": words})
        return "Your new wording is on the plan. Everyone it concerns is asked to answer on it again.", None
    if action == "levels":
        revision = _revision_in_case(user, case, target)
        values = {f"level_{level}": post.get(f"level_{level}", "") for level in GAS_LEVELS}
        typed = {str(level): values[f"level_{level}"] for level in GAS_LEVELS}
        # All five left empty: the goal has no scale (yet), as when it was first written.
        levels = None if not any(text.strip() for text in typed.values()) else typed
        try:
            plan_item_revise(actor=user, revision=revision, gas_levels=levels)
        except (ValidationError, PermissionDenied) as exc:
            return "", Failed(action, _message(exc), target=target, values=values)
        return "Your levels are saved with the goal.", None
    return "", Failed(action, UNKNOWN_ACTION)


def _message(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError):
        return exc.messages[0]
    return str(exc) or UNKNOWN_ACTION


def _add_step(user: User, case: Case, me: Client, target: str, post: Any) -> tuple[str, Failed | None]:
    revision = _revision_in_case(user, case, target)
    text, whom, raw_due = post.get("text", ""), post.get("for", "me"), post.get("due_on", "").strip()
    values = {"text": text, "for": whom, "due_on": raw_due}
    if whom not in ("me", "both"):
        return "", Failed("add_step", UNKNOWN_ACTION, target=target, values=values)
    due_on = None
    if raw_due:
        try:
            due_on = datetime.date.fromisoformat(raw_due)
        except ValueError:
            return "", Failed(
                "add_step", "The due date is not a date. Use the form's date, or leave it empty.", target=target, values=values
            )
        if due_on < _today(me):
            return "", Failed(
                "add_step", "That day has passed. Choose today or a later day, or leave the date empty.", target=target, values=values
            )
    # In an individual case the step is simply the client's; "both" is a couple's joint step.
    for_both = whom == "both" and case.kind == CaseKind.COUPLE and revision.item.scope == ItemScope.JOINT
    try:
        action_step_add(actor=user, item=revision.item, text=text, client=None if for_both else me, due_on=due_on)
    except (ValidationError, PermissionDenied) as exc:
        return "", Failed("add_step", _message(exc), target=target, values=values)
    return "Your step is on the plan." if not for_both else "The step is on the plan, for both of you.", None


@require_http_methods(["GET", "HEAD", "POST"])
@role_required([Role.CLIENT])
def case_plan(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case, me = _plan_case(request, case_id)
    if request.method != "POST":
        return _page(request, user, case, me)
    done, failed = _act(request, user, case, me, request.POST.get("action", ""))
    if failed is not None:
        return _page(request, user, case, me, failed=failed, status=400)
    messages.success(request, done)
    # 303: a reload shows the page instead of sending the form twice.
    return HttpResponseRedirect(reverse("portal:case_plan", kwargs={"case_id": case.public_id}), status=303)


def _plan_case(request: HttpRequest, case_id: uuid.UUID) -> tuple[User, Case, Client]:
    user = signed_in_user(request)
    case = case_get_for_user(user, case_id)
    me = client_in_case(user, case)
    if me is None:
        raise Http404("No such case")
    return user, case, me


def _who(version: PlanVersion, user: User, case: Case) -> str:
    if version.created_by_id == user.pk:
        return "You"
    if version.created_by_id == case.primary_therapist.user_id:
        return case.primary_therapist.display_name
    return version.created_by.full_name


@require_GET
@role_required([Role.CLIENT])
def case_plan_history(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user, case, me = _plan_case(request, case_id)
    # Oldest first to number them as this client sees them, then shown newest first.
    visible = list(reversed(plan_versions(user, case.public_id)))
    changes = [{"number": n, "version": v, "who": _who(v, user, case)} for n, v in enumerate(visible, start=1)]
    context = {"case": case, "me": me, "couple": case.kind == CaseKind.COUPLE, "changes": list(reversed(changes))}
    return render(request, "portal/plan_history.html", context)


@require_GET
@role_required([Role.CLIENT])
def case_plan_version(request: HttpRequest, case_id: uuid.UUID, number: int) -> HttpResponse:
    user, case, me = _plan_case(request, case_id)
    visible = list(reversed(plan_versions(user, case.public_id)))
    # ``number`` counts the changes this client may see; a change they may not see has no number.
    if not 1 <= number <= len(visible):
        raise Http404("No such change")
    version = visible[number - 1]
    plan = plan_for_viewer(user, case.public_id, version=version.number, request=request)
    context = {
        "case": case,
        "me": me,
        "couple": case.kind == CaseKind.COUPLE,
        "plan": plan,
        "number": number,
        "latest": number == len(visible),
        "version": version,
        "who": _who(version, user, case),
        "goals": [_item_context(v, user, me, None) for v in plan.goals],
        "approaches": [_item_context(v, user, me, None) for v in plan.approaches],
    }
    return render(request, "portal/plan_version.html", context)
