"""Reads for the goal progress pages: each current goal with every rating the viewer may see.

Scoped like ``plan_for_viewer`` (rapport.plans.selectors): the case comes from
``case_get_for_user`` (outsiders 404, insiders without the right 403); a client sees the joint goals
and their own, with their own ratings and the therapist's, never the other partner's goals or
ratings; the therapist sees everything. Unlike ``plan_for_viewer`` it reads in a fixed number of
queries however many goals and ratings there are, since the progress pages show every rating ever
made, each with its session.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from rapport.accounts.models import Role
from rapport.audit.models import Action
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case, Client
from rapport.clients.selectors import case_get_for_user, case_members
from rapport.plans.models import GoalRating, ItemKind, ItemRevision, ItemScope, PlanItem, TreatmentPlan
from rapport.plans.people import client_in_case


@dataclass(frozen=True)
class GoalProgress:
    item: PlanItem
    revision: ItemRevision  # the current wording
    ratings: list[GoalRating]  # oldest first, ``appointment`` and ``client`` already loaded


@dataclass(frozen=True)
class CaseProgress:
    case: Case
    members: list[Client]  # the case's clients, in order
    viewer_client: Client | None  # the viewer's own record when a client reads, else None
    goals: list[GoalProgress]


def goal_progress_for_viewer(user: Any, case_public_id: uuid.UUID | str, *, request: Any = None) -> CaseProgress:
    """The current goals of a case with their ratings, as this user may see them.

    Goals removed from the plan are left out (their history stays on the plan's old versions).
    Audited as a read of the plan, like the plan page (for a partner, against their own record).
    """
    case = case_get_for_user(user, case_public_id)
    viewer_client = client_in_case(user, case) if user.role == Role.CLIENT else None
    members = [m.client for m in case_members(case)]
    plan = TreatmentPlan.objects.filter(case=case).first()
    if plan is None:
        case_audit(actor=user, action=Action.VIEW, case=case, request=request, object_type="plans.plan")
        return CaseProgress(case=case, members=members, viewer_client=viewer_client, goals=[])
    items = plan.items.filter(kind=ItemKind.GOAL, added_in__isnull=False, removed_in__isnull=True).select_related("owner")
    if viewer_client is not None:
        items = items.filter(Q(scope=ItemScope.JOINT) | Q(owner=viewer_client))
    goals_by_pk = {item.pk: item for item in items.order_by("id")}
    current: dict[int, ItemRevision] = {}
    # Ascending numbers: the last one seen per item is its current wording.
    for revision in ItemRevision.objects.filter(item_id__in=goals_by_pk).order_by("item_id", "number"):
        current[revision.item_id] = revision
    ratings = GoalRating.objects.filter(item_id__in=goals_by_pk).select_related("appointment", "client")
    if viewer_client is not None:
        # Their own, and the therapist's; never the other partner's.
        ratings = ratings.filter(Q(client=viewer_client) | Q(client__isnull=True))
    by_item: dict[int, list[GoalRating]] = {pk: [] for pk in goals_by_pk}
    for rating in ratings.order_by("rated_at", "id"):
        by_item[rating.item_id].append(rating)
    goals = [GoalProgress(item=item, revision=current[pk], ratings=by_item[pk]) for pk, item in goals_by_pk.items() if pk in current]
    case_audit(actor=user, action=Action.VIEW, case=case, request=request, object_type="plans.plan", object_id=plan.public_id)
    return CaseProgress(case=case, members=members, viewer_client=viewer_client, goals=goals)
