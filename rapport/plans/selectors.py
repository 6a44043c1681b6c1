"""Reads of treatment plans, scoped to the viewer (ARCHITECTURE.md, "Visibility rules").

The case comes from ``rapport.clients.selectors.case_get_for_user``: outsiders 404, insiders
without the right (a supervisor without the clients' consent) 403. Within a case, a client sees
the joint items and their own individual items; never the other partner's individual items, nor
the other partner's ratings, comments or reflections. Of a joint item they do see where the other
partner stands (agree, talk, don't agree), since the plan must show a difference between partners;
the other partner's comment stays theirs. The therapist and a consenting supervisor see everything.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Exists, FilteredRelation, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest

from rapport.accounts.models import Role
from rapport.audit.models import Action
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case, CaseKind, CaseStatus, Client
from rapport.clients.selectors import case_get_for_user
from rapport.plans.models import ActionStep, Agreement, GoalRating, ItemKind, ItemRevision, ItemScope, PlanItem, PlanVersion, TreatmentPlan
from rapport.plans.people import client_in_case, concerned_clients


class AgreementStatus(enum.StrEnum):
    AGREED = "agreed"
    WAITING = "waiting"
    DIFFERENCE = "difference"


@dataclass(frozen=True)
class ClientAnswer:
    client: Client
    choice: str | None  # None: not answered yet
    comment: str | None  # None when hidden from this viewer (or not given)


@dataclass(frozen=True)
class AgreementState:
    """Where agreement on one wording stands. ``waiting_for`` are the clients yet to answer."""

    status: AgreementStatus
    answers: list[ClientAnswer]
    waiting_for: list[Client]


@dataclass(frozen=True)
class StepView:
    step: ActionStep
    reflection: str | None  # None when hidden from this viewer


@dataclass(frozen=True)
class ItemView:
    item: PlanItem
    revision: ItemRevision
    agreement: AgreementState
    ratings: list[GoalRating] = field(default_factory=list)
    steps: list[StepView] = field(default_factory=list)


@dataclass(frozen=True)
class PlanView:
    case: Case
    version: PlanVersion | None  # None: no plan yet
    is_current: bool
    goals: list[ItemView]
    approaches: list[ItemView]


def _latest_answers_by_revision(revision_ids: list[int]) -> dict[int, dict[int, Agreement]]:
    """Per revision, the newest answer of each client: one query for any number of revisions."""
    latest: dict[int, dict[int, Agreement]] = defaultdict(dict)
    for agreement in Agreement.objects.filter(revision_id__in=revision_ids).order_by("id"):
        latest[agreement.revision_id][agreement.client_id] = agreement
    return latest


def _latest_answers(revision: ItemRevision) -> dict[int, Agreement]:
    return _latest_answers_by_revision([revision.pk]).get(revision.pk, {})


def _state(clients: list[Client], latest: dict[int, Agreement], viewer_client: Client | None, show_comments: bool) -> AgreementState:
    answers = []
    for client in clients:
        agreement = latest.get(client.pk)
        own = viewer_client is not None and viewer_client.pk == client.pk
        comment = agreement.comment if agreement is not None and agreement.comment and (show_comments or own) else None
        answers.append(ClientAnswer(client=client, choice=None if agreement is None else agreement.choice, comment=comment))
    choices = {a.choice for a in answers if a.choice is not None}
    waiting = [a.client for a in answers if a.choice is None]
    if choices - {"agree"}:
        status = AgreementStatus.DIFFERENCE
    elif waiting:
        status = AgreementStatus.WAITING
    else:
        status = AgreementStatus.AGREED
    return AgreementState(status=status, answers=answers, waiting_for=waiting)


def agreement_state(revision: ItemRevision, *, viewer_client: Client | None = None, show_comments: bool = True) -> AgreementState:
    """Fully agreed, waiting for someone, or a difference (someone wants to talk, or does not agree,
    which on a joint item includes partners answering differently)."""
    item = revision.item
    return _state(concerned_clients(item, item.plan.case), _latest_answers(revision), viewer_client, show_comments)


class _Concerned:
    """``concerned_clients`` for many items of one case, reading the case's clients at most once."""

    def __init__(self, case: Case) -> None:
        self.case = case
        self._members: list[Client] | None = None

    def __call__(self, item: PlanItem) -> list[Client]:
        if item.scope == ItemScope.INDIVIDUAL:
            assert item.owner is not None
            return [item.owner]
        if self._members is None:
            self._members = [m.client for m in self.case.members.select_related("client").order_by("position")]
        return list(self._members)


def _newest_revisions(items: list[PlanItem], up_to: PlanVersion | None = None) -> dict[int, ItemRevision]:
    """Each item's newest wording (as of version ``up_to``, when given), in one query."""
    newer = ItemRevision.objects.filter(item=OuterRef("item"), number__gt=OuterRef("number"))
    revisions = ItemRevision.objects.filter(item__in=items)
    if up_to is not None:
        newer = newer.filter(version__number__lte=up_to.number)
        revisions = revisions.filter(version__number__lte=up_to.number)
    by_item = {item.pk: item for item in items}
    found = {}
    for revision in revisions.exclude(Exists(newer)).select_related("version", "written_by"):
        revision.item = by_item[revision.item_id]  # already fetched: no query per wording
        found[revision.item_id] = revision
    return found


def _visible_items(plan: TreatmentPlan, viewer_client: Client | None) -> QuerySet[PlanItem]:
    items = plan.items.select_related("owner", "plan__case", "added_in", "removed_in")
    if viewer_client is not None:
        items = items.filter(Q(scope=ItemScope.JOINT) | Q(owner=viewer_client))
    return items


def _ratings_for(items: list[PlanItem], viewer_client: Client | None, up_to: PlanVersion) -> dict[int, list[GoalRating]]:
    """Per goal, the ratings the viewer may see up to version ``up_to``, oldest first; one query."""
    ratings = GoalRating.objects.filter(item__in=items, version__number__lte=up_to.number)
    if viewer_client is not None:
        # Their own, and the therapist's; never the other partner's.
        ratings = ratings.filter(Q(client=viewer_client) | Q(client__isnull=True))
    by_item: dict[int, list[GoalRating]] = defaultdict(list)
    for rating in ratings.order_by("rated_at", "id"):
        by_item[rating.item_id].append(rating)
    return by_item


def _steps_for(items: list[PlanItem], viewer_client: Client | None, viewer: Any) -> dict[int, list[StepView]]:
    """Per goal, the steps the viewer may see, with the reflections they may read; one query."""
    steps = ActionStep.objects.filter(item__in=items).select_related("client")
    if viewer_client is not None:
        steps = steps.filter(Q(client=viewer_client) | Q(client__isnull=True))
    by_item: dict[int, list[StepView]] = defaultdict(list)
    for step in steps.order_by("due_on", "id"):
        hidden = viewer_client is not None and step.done_by_id is not None and step.done_by_id != viewer.pk
        by_item[step.item_id].append(StepView(step=step, reflection=None if hidden else (step.reflection or None)))
    return by_item


def plan_for_viewer(
    user: Any, case_public_id: uuid.UUID | str, *, version: int | None = None, request: HttpRequest | None = None
) -> PlanView:
    """The plan as this user may see it, as of its newest version or of version ``version``.

    Audited as a read of the case (for a partner, against their own record only). A fixed number
    of queries whatever the plan's size: each kind of row is fetched once for every item.
    """
    case = case_get_for_user(user, case_public_id)
    viewer_client = client_in_case(user, case) if user.role == Role.CLIENT else None
    plan = TreatmentPlan.objects.filter(case=case).first()
    newest = None if plan is None else plan.versions.order_by("-number").first()
    if plan is None or newest is None:
        if version is not None:
            raise Http404("No such plan version")
        case_audit(actor=user, action=Action.VIEW, case=case, request=request, object_type="plans.plan")
        return PlanView(case=case, version=None, is_current=True, goals=[], approaches=[])
    shown = newest if version is None else plan.versions.filter(number=version).first()
    if shown is None:
        raise Http404("No such plan version")
    items = [
        item
        for item in _visible_items(plan, viewer_client)
        if item.added_in is not None
        and item.added_in.number <= shown.number
        and (item.removed_in is None or item.removed_in.number > shown.number)
    ]
    revisions = _newest_revisions(items, shown)
    items = [item for item in items if item.pk in revisions]
    answers = _latest_answers_by_revision([revision.pk for revision in revisions.values()])
    concerned = _Concerned(case)
    goal_items = [item for item in items if item.kind == ItemKind.GOAL]
    ratings = _ratings_for(goal_items, viewer_client, shown) if goal_items else {}
    steps = _steps_for(goal_items, viewer_client, user) if goal_items else {}
    goals: list[ItemView] = []
    approaches: list[ItemView] = []
    for item in items:
        revision = revisions[item.pk]
        state = _state(concerned(item), answers.get(revision.pk, {}), viewer_client, show_comments=viewer_client is None)
        if item.kind == ItemKind.GOAL:
            goals.append(
                ItemView(
                    item=item,
                    revision=revision,
                    agreement=state,
                    ratings=ratings.get(item.pk, []),
                    steps=steps.get(item.pk, []),
                )
            )
        else:
            approaches.append(ItemView(item=item, revision=revision, agreement=state))
    case_audit(actor=user, action=Action.VIEW, case=case, request=request, object_type="plans.plan", object_id=plan.public_id)
    return PlanView(case=case, version=shown, is_current=shown.pk == newest.pk, goals=goals, approaches=approaches)


def items_needing_attention(case: Case) -> list[ItemView]:
    """The current items of a case whose agreement is waiting or shows a difference, for its therapist.

    Pass a case obtained through ``case_get_for_user`` for a staff user: this lists every item,
    individual ones included, and records no read (the page that shows the wording does). A fixed
    number of queries whatever the plan's size.
    """
    plan = TreatmentPlan.objects.filter(case=case).first()
    if plan is None:
        return []
    items = list(plan.items.filter(removed_in__isnull=True).select_related("owner", "plan__case"))
    revisions = _newest_revisions(items)
    answers = _latest_answers_by_revision([revision.pk for revision in revisions.values()])
    concerned = _Concerned(case)
    found = []
    for item in items:
        revision = revisions.get(item.pk)
        if revision is None:
            continue
        state = _state(concerned(item), answers.get(revision.pk, {}), None, True)
        if state.status != AgreementStatus.AGREED:
            found.append(ItemView(item=item, revision=revision, agreement=state))
    return found


def plan_version_newest(case: Case) -> PlanVersion | None:
    """The case's newest plan version, or None while it has no plan; for writers that record it.

    Not scoped to a viewer and reads no wording (a version's note is never clinical), so it records
    no read: check-ins store it to say which plan they were answered against.
    """
    return PlanVersion.objects.filter(plan__case=case).order_by("-number").first()


def plan_versions(user: Any, case_public_id: uuid.UUID | str) -> list[PlanVersion]:
    """Who changed what, newest first; a client does not see changes to the other partner's own items.

    The notes carry no clinical text, so listing them is not a read of the record.
    """
    case = case_get_for_user(user, case_public_id)
    versions = PlanVersion.objects.filter(plan__case=case).select_related("created_by", "item")
    viewer_client = client_in_case(user, case) if user.role == Role.CLIENT else None
    if viewer_client is not None:
        versions = versions.filter(Q(item__scope=ItemScope.JOINT) | Q(item__owner=viewer_client))
    return list(versions.order_by("-number"))


def revision_get_for_user(user: Any, public_id: uuid.UUID | str) -> ItemRevision:
    """One wording by its public id, if the user may see its item; 404 otherwise (tampered ids too)."""
    try:
        revision = ItemRevision.objects.select_related("item__plan__case", "item__owner").get(public_id=public_id)
    except (ItemRevision.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such item") from None
    case = case_get_for_user(user, revision.item.plan.case.public_id)
    viewer_client = client_in_case(user, case) if user.role == Role.CLIENT else None
    if viewer_client is not None and revision.item.scope == ItemScope.INDIVIDUAL and revision.item.owner_id != viewer_client.pk:
        raise Http404("No such item")
    return revision


def step_get_for_user(user: Any, public_id: uuid.UUID | str) -> ActionStep:
    """One action step by its public id, if the user may see it; 404 otherwise (tampered ids too).

    A client sees their own steps and the joint ones; the other partner's steps, and every step of
    an item they may not see, are 404.
    """
    try:
        step = ActionStep.objects.select_related("item__plan__case", "item__owner").get(public_id=public_id)
    except (ActionStep.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such step") from None
    case = case_get_for_user(user, step.item.plan.case.public_id)
    viewer_client = client_in_case(user, case) if user.role == Role.CLIENT else None
    if viewer_client is not None:
        if step.item.scope == ItemScope.INDIVIDUAL and step.item.owner_id != viewer_client.pk:
            raise Http404("No such step")
        if step.client_id is not None and step.client_id != viewer_client.pk:
            raise Http404("No such step")
    return step


@dataclass(frozen=True)
class OpenStep:
    public_id: uuid.UUID
    due_on: datetime.date | None
    for_both: bool
    case_id: uuid.UUID


_OPEN = (CaseStatus.CONSULTATION, CaseStatus.ACTIVE)


def plan_work_for(client: Client) -> tuple[dict[uuid.UUID, int], list[OpenStep]]:
    """Per open case, how many current items wait for this client's answer; and their open steps.

    One query: the portal's home page asks both on every visit and has a query budget. The steps are the client's own and the joint ones, on goals still in the plan that
    they may see (joint goals and their own), never the other partner's; soonest due first,
    undated last. Counts and dates only: nothing is decrypted.
    """
    newer = ItemRevision.objects.filter(item=OuterRef("item"), number__gt=OuterRef("number"))
    answered = Agreement.objects.filter(revision=OuterRef("pk"), client=client)
    unanswered = ItemRevision.objects.filter(item=OuterRef("pk")).exclude(Exists(newer)).exclude(Exists(answered))
    rows = (
        PlanItem.objects.filter(plan__case__members__client=client, plan__case__status__in=_OPEN, removed_in__isnull=True)
        .filter(Q(scope=ItemScope.JOINT) | Q(owner=client))
        .annotate(
            waiting=Exists(unanswered),
            open_steps=FilteredRelation(
                "steps", condition=Q(steps__done_at__isnull=True) & (Q(steps__client=client) | Q(steps__client__isnull=True))
            ),
        )
        .order_by("plan__case__public_id", "id", "open_steps__id")
        .values_list(
            "pk",
            "plan__case__public_id",
            "plan__case__kind",
            "waiting",
            "open_steps__public_id",
            "open_steps__due_on",
            "open_steps__client_id",
        )
    )
    waiting: dict[uuid.UUID, set[int]] = {}
    steps: list[OpenStep] = []
    for item_pk, case_id, kind, is_waiting, step_id, due_on, step_client in rows:
        if is_waiting:
            waiting.setdefault(case_id, set()).add(item_pk)
        if step_id is not None:
            steps.append(
                OpenStep(public_id=step_id, due_on=due_on, for_both=step_client is None and kind == CaseKind.COUPLE, case_id=case_id)
            )
    # Python's sort is stable: steps due the same day keep the order they were added in.
    steps.sort(key=lambda step: (step.due_on is None, step.due_on or datetime.date.min))
    return {case_id: len(items) for case_id, items in waiting.items()}, steps


def items_awaiting_answer(client: Client) -> dict[uuid.UUID, int]:
    """Per open case of this client (by public id), how many current items wait for this client's answer.

    Counts only: it reads no wording, so it records no read. For the portal's "Things to do".
    """
    return plan_work_for(client)[0]
