"""Writes for treatment plans: keyword-only, atomic, each audited in the same transaction.

Who may write: the case's primary therapist, and the case's own clients on the items that concern
them (joint items, and their own individual items). Supervisors and other staff read at most.
Refusals are ``ValidationError`` (bad input) or ``PermissionDenied`` (not yours to change), each
with a message a client can read; nothing is written when one is raised.

Changes to the plan's content (a goal or approach added, reworded or removed) make a new
``PlanVersion``. Agreements, ratings and action steps are not changes to the plan: they point at
the revision or version they concern.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case, CaseKind, CaseMember, CaseStatus, Client
from rapport.plans import gas
from rapport.plans.models import (
    GAS_LEVELS,
    ActionStep,
    Agreement,
    ChangeKind,
    Choice,
    GoalRating,
    ItemKind,
    ItemRevision,
    ItemScope,
    PlanItem,
    PlanVersion,
    RaterRole,
    TreatmentPlan,
)
from rapport.plans.people import client_in_case, is_case_therapist
from rapport.scheduling.models import Appointment

_OPEN = (CaseStatus.CONSULTATION, CaseStatus.ACTIVE)
MAX_WORDS = 2000
MAX_COMMENT = 2000


def _require_writer(actor: User, case: Case) -> Client | None:
    """The therapist (returns None) or a client of the case (returns their record)."""
    if case.status not in _OPEN:
        raise ValidationError("This case is closed, so its plan can no longer change.", code="closed")
    if is_case_therapist(actor, case):
        return None
    client = client_in_case(actor, case)
    if client is None:
        raise PermissionDenied("Only the therapist and the clients of this case may change its plan.")
    return client


def _require_concerns(client: Client | None, item: PlanItem) -> None:
    if client is not None and item.scope == ItemScope.INDIVIDUAL and item.owner_id != client.pk:
        raise PermissionDenied("This item belongs to someone else's part of the plan.")


def _clean_words(text: str, *, what: str, required: bool = True, limit: int = MAX_WORDS) -> str:
    # Kept as written: only the surrounding blank space is dropped, never the client's own wording.
    if not isinstance(text, str):
        raise ValidationError(f"{what} must be text.", code="invalid")
    text = text.strip()
    if required and not text:
        raise ValidationError(f"{what} cannot be empty.", code="empty")
    if len(text) > limit:
        raise ValidationError(f"{what} can be at most {limit} characters.", code="too_long")
    return text


def _clean_levels(levels: Mapping[Any, str] | None) -> dict[str, str] | None:
    if levels is None:
        return None
    try:
        cleaned = {str(int(k)): _clean_words(v, what="Each level", required=False, limit=500) for k, v in levels.items()}
    except (TypeError, ValueError):
        raise ValidationError("The levels are -2, -1, 0, +1 and +2.", code="bad_levels") from None
    if set(cleaned) != {str(n) for n in GAS_LEVELS}:
        raise ValidationError("Describe all five levels, from -2 to +2 (0 is the expected outcome).", code="bad_levels")
    if not cleaned["0"]:
        raise ValidationError("Level 0, the expected outcome, needs a description.", code="bad_levels")
    return cleaned


def _clean_weight(weight: int | None) -> int | None:
    if weight is None:
        return None
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
        raise ValidationError("A weight is a whole number from 1 to 100.", code="bad_weight")
    return weight


def _plan_for_update(case: Case) -> TreatmentPlan:
    # Locks the plan, so two changes at once get consecutive version numbers and a stale edit
    # is seen as stale.
    plan, _ = TreatmentPlan.objects.get_or_create(case=case, defaults={"practice_id": case.practice_id})
    return TreatmentPlan.objects.select_for_update().get(pk=plan.pk)


def _next_version(*, plan: TreatmentPlan, actor: User, change: ChangeKind, item: PlanItem, note: str) -> PlanVersion:
    last = plan.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return PlanVersion.objects.create(
        practice_id=plan.practice_id, plan=plan, number=last + 1, created_by=actor, change=change, item=item, note=note
    )


def _audit(
    *, actor: User, action: Action, case: Case, object_type: str, object_id: Any, concerns: Client | None, fields: list[str]
) -> None:
    """Joint material is recorded for every client of the case; a partner's own material for them only,
    so the other partner's "who opened my record" does not reveal that it exists."""
    if concerns is None:
        case_audit(actor=actor, action=action, case=case, object_type=object_type, object_id=object_id, fields=fields)
        return
    audit_record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        practice_id=case.practice.public_id,
        client_id=concerns.public_id,
        detail={"fields": fields},
    )


def _item_concerns(item: PlanItem) -> Client | None:
    return item.owner if item.scope == ItemScope.INDIVIDUAL else None


def current_revision(item: PlanItem) -> ItemRevision:
    revision = item.revisions.order_by("-number").first()
    assert revision is not None, "an item is always created with its first revision"
    return revision


@transaction.atomic
def _item_create(
    *,
    actor: User,
    case: Case,
    kind: ItemKind,
    words: str,
    owner: Client | None,
    framing: str,
    gas_levels: Mapping[Any, str] | None,
    weight: int | None,
) -> ItemRevision:
    acting_client = _require_writer(actor, case)
    words = _clean_words(words, what="The words" if kind == ItemKind.GOAL else "The description")
    framing = _clean_words(framing, what="The framing", required=False)
    if framing and acting_client is not None:
        raise PermissionDenied("Only the therapist adds framing beside a client's words.")
    levels = _clean_levels(gas_levels) if kind == ItemKind.GOAL else None
    weight = _clean_weight(weight) if kind == ItemKind.GOAL else None
    if owner is not None:
        if case.kind != CaseKind.COUPLE:
            raise ValidationError("Only a couple's plan has individual items; this one is the case's own.", code="no_individual")
        if not CaseMember.objects.filter(case=case, client=owner).exists():
            raise ValidationError("This person is not a client of this case.", code="wrong_client")
        if acting_client is not None and owner.pk != acting_client.pk:
            raise PermissionDenied("You can add individual items for yourself only.")
    plan = _plan_for_update(case)
    item = PlanItem.objects.create(
        practice_id=case.practice_id,
        plan=plan,
        kind=kind,
        scope=ItemScope.INDIVIDUAL if owner is not None else ItemScope.JOINT,
        owner=owner,
    )
    label = "Goal" if kind == ItemKind.GOAL else "Approach"
    version = _next_version(plan=plan, actor=actor, change=ChangeKind.PROPOSED, item=item, note=f"{label} added")
    item.added_in = version
    item.save(update_fields=["added_in", "updated_at"])
    revision = ItemRevision(
        practice_id=case.practice_id,
        item=item,
        version=version,
        number=1,
        client_words=words,
        written_by=actor,
        therapist_framing=framing,
        weight=weight,
    )
    revision.gas_levels = levels
    revision.save()
    fields = ["client_words"] + (["therapist_framing"] if framing else []) + (["gas_levels"] if levels else [])
    _audit(actor=actor, action=Action.CREATE, case=case, object_type="plans.item", object_id=item.public_id, concerns=owner, fields=fields)
    return revision


def plan_propose_goal(
    *,
    actor: User,
    case: Case,
    words: str,
    owner: Client | None = None,
    framing: str = "",
    gas_levels: Mapping[Any, str] | None = None,
    weight: int | None = None,
) -> ItemRevision:
    """A goal in its author's words: a client proposing in the portal, or the therapist drafting.

    ``owner`` makes it one partner's individual goal (a client may name only themselves); without
    it the goal is joint. Only the therapist may add ``framing``.
    """
    return _item_create(
        actor=actor, case=case, kind=ItemKind.GOAL, words=words, owner=owner, framing=framing, gas_levels=gas_levels, weight=weight
    )


def plan_add_approach(*, actor: User, case: Case, words: str, owner: Client | None = None, framing: str = "") -> ItemRevision:
    """How we will work (frequency, focus, methods in plain words), as an item to agree on."""
    return _item_create(
        actor=actor, case=case, kind=ItemKind.APPROACH, words=words, owner=owner, framing=framing, gas_levels=None, weight=None
    )


def _locked_current(actor: User, revision: ItemRevision) -> tuple[Case, Client | None, PlanItem, ItemRevision]:
    """Checks the actor may change the revision's item and that the revision is still its newest."""
    item = PlanItem.objects.select_related("plan__case__practice", "plan__case__primary_therapist", "owner").get(pk=revision.item_id)
    case = item.plan.case
    acting_client = _require_writer(actor, case)
    _require_concerns(acting_client, item)
    _plan_for_update(case)
    if item.removed_in_id is not None:
        raise ValidationError("This item has been removed from the plan.", code="removed")
    latest = current_revision(item)
    if latest.pk != revision.pk:
        raise ValidationError("This item has changed since you opened it. Please read the current wording.", code="superseded")
    return case, acting_client, item, latest


_UNSET: Any = object()


@transaction.atomic
def plan_item_revise(
    *,
    actor: User,
    revision: ItemRevision,
    words: str = _UNSET,
    framing: str = _UNSET,
    gas_levels: Mapping[Any, str] | None = _UNSET,
    weight: int | None = _UNSET,
) -> ItemRevision:
    """A new wording of an item, as a new revision in a new plan version; agreement on this item
    starts again (it belongs to the old revision), on no other item.

    The words, and the levels written in them, are their author's: only the person who wrote
    them may change them. The therapist may add or change the framing beside them, and the weight.
    ``revision`` is the one the actor was shown: an edit of an older one is refused.
    """
    case, acting_client, item, current = _locked_current(actor, revision)
    changed: list[str] = []
    new_words, new_framing, new_levels, new_weight = current.client_words, current.therapist_framing, current.gas_levels, current.weight
    author = current.written_by_id == actor.pk
    if words is not _UNSET:
        cleaned = _clean_words(words, what="The words")
        if cleaned != current.client_words:
            if not author:
                raise PermissionDenied("Only the person who wrote these words may change them. The therapist may add framing beside them.")
            new_words = cleaned
            changed.append("client_words")
    if framing is not _UNSET:
        cleaned = _clean_words(framing, what="The framing", required=False)
        if cleaned != current.therapist_framing:
            if acting_client is not None:
                raise PermissionDenied("Only the therapist adds framing beside a client's words.")
            new_framing = cleaned
            changed.append("therapist_framing")
    if gas_levels is not _UNSET:
        if item.kind != ItemKind.GOAL:
            raise ValidationError("Only goals have levels.", code="not_goal")
        cleaned_levels = _clean_levels(gas_levels)
        if cleaned_levels != current.gas_levels:
            if not author:
                raise PermissionDenied("The levels are written in the words of the goal's author; only they may change them.")
            new_levels = cleaned_levels
            changed.append("gas_levels")
    if weight is not _UNSET:
        if item.kind != ItemKind.GOAL:
            raise ValidationError("Only goals have a weight.", code="not_goal")
        cleaned_weight = _clean_weight(weight)
        if cleaned_weight != current.weight:
            if acting_client is not None and not author:
                raise PermissionDenied("Only the therapist or the goal's author sets its weight.")
            new_weight = cleaned_weight
            changed.append("weight")
    if not changed:
        raise ValidationError("Nothing was changed.", code="unchanged")
    label = "Goal" if item.kind == ItemKind.GOAL else "Approach"
    version = _next_version(
        plan=item.plan,
        actor=actor,
        change=ChangeKind.REVISED,
        item=item,
        note=f"{label} changed: {', '.join(f.replace('_', ' ') for f in changed)}",
    )
    new = ItemRevision(
        practice_id=case.practice_id,
        item=item,
        version=version,
        number=current.number + 1,
        client_words=new_words,
        # The words keep their author even when only the framing or weight changed.
        written_by_id=actor.pk if "client_words" in changed else current.written_by_id,
        therapist_framing=new_framing,
        weight=new_weight,
    )
    new.gas_levels = new_levels
    new.save()
    _audit(
        actor=actor,
        action=Action.UPDATE,
        case=case,
        object_type="plans.item",
        object_id=item.public_id,
        concerns=_item_concerns(item),
        fields=changed,
    )
    return new


@transaction.atomic
def plan_item_remove(*, actor: User, revision: ItemRevision) -> PlanVersion:
    """Take an item out of the plan from a new version on; earlier versions still show it.

    The therapist may remove any item; a client only an item whose current words they wrote.
    """
    case, acting_client, item, current = _locked_current(actor, revision)
    if acting_client is not None and current.written_by_id != actor.pk:
        raise PermissionDenied("You can remove only items you wrote. Mark it 'I want to talk about it' instead.")
    label = "Goal" if item.kind == ItemKind.GOAL else "Approach"
    version = _next_version(plan=item.plan, actor=actor, change=ChangeKind.REMOVED, item=item, note=f"{label} removed")
    item.removed_in = version
    item.save(update_fields=["removed_in", "updated_at"])
    _audit(
        actor=actor,
        action=Action.DELETE,
        case=case,
        object_type="plans.item",
        object_id=item.public_id,
        concerns=_item_concerns(item),
        fields=["removed_in"],
    )
    return version


@transaction.atomic
def plan_agree_item(*, actor: User, revision: ItemRevision, choice: str, comment: str = "") -> Agreement:
    """A client's answer on the current wording of an item that concerns them.

    Answering again replaces the answer (the earlier row stays as history). An answer on a wording
    that has since changed is refused: the client must see the new words first.
    """
    item = PlanItem.objects.select_related("plan__case__practice", "plan__case__primary_therapist", "owner").get(pk=revision.item_id)
    case = item.plan.case
    acting_client = client_in_case(actor, case)
    if acting_client is None:
        raise PermissionDenied("Only the clients of this case answer on its plan.")
    if case.status not in _OPEN:
        raise ValidationError("This case is closed, so its plan can no longer change.", code="closed")
    _require_concerns(acting_client, item)
    if choice not in Choice.values:
        raise ValidationError("Choose: I agree, I want to talk about it, or I don't agree.", code="bad_choice")
    comment = _clean_words(comment, what="The comment", required=False, limit=MAX_COMMENT)
    _plan_for_update(case)
    if item.removed_in_id is not None:
        raise ValidationError("This item has been removed from the plan.", code="removed")
    if current_revision(item).pk != revision.pk:
        raise ValidationError(
            "This item has changed since you opened it. Please read the current wording and answer on that.", code="superseded"
        )
    agreement = Agreement.objects.create(
        practice_id=case.practice_id,
        client=acting_client,
        revision=revision,
        choice=choice,
        comment=comment,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="plans.agreement",
        object_id=agreement.public_id,
        practice_id=case.practice.public_id,
        client_id=acting_client.public_id,
        detail={"fields": ["choice"] + (["comment"] if comment else [])},
    )
    return agreement


def _goal_for_write(actor: User, item: PlanItem) -> tuple[Case, Client | None, PlanItem]:
    item = PlanItem.objects.select_related("plan__case__practice", "plan__case__primary_therapist", "owner").get(pk=item.pk)
    case = item.plan.case
    acting_client = _require_writer(actor, case)
    _require_concerns(acting_client, item)
    if item.kind != ItemKind.GOAL:
        raise ValidationError("Only goals are rated and have steps.", code="not_goal")
    if item.removed_in_id is not None:
        raise ValidationError("This goal has been removed from the plan.", code="removed")
    return case, acting_client, item


@transaction.atomic
def goal_rate(*, actor: User, item: PlanItem, level: int, appointment: Appointment | None = None) -> GoalRating:
    """Where a goal stands today on its -2..+2 scale, by a client it concerns or by the therapist.

    Client and therapist rate separately; each rating points at the plan version current now and,
    when there is one, the session it was made for.
    """
    try:
        gas.check_level(level)
    except ValueError:
        raise ValidationError("A rating is one of -2, -1, 0, +1 or +2.", code="bad_level") from None
    case, acting_client, item = _goal_for_write(actor, item)
    if appointment is not None and appointment.case_id != case.pk:
        raise ValidationError("This session is not one of this case's.", code="wrong_appointment")
    plan = _plan_for_update(case)
    version = plan.versions.order_by("-number").first()
    assert version is not None
    rating = GoalRating.objects.create(
        practice_id=case.practice_id,
        item=item,
        version=version,
        rater=actor,
        rater_role=RaterRole.THERAPIST if acting_client is None else RaterRole.CLIENT,
        client=acting_client,
        level=level,
        rated_at=timezone.now(),
        appointment=appointment,
    )
    _audit(
        actor=actor,
        action=Action.CREATE,
        case=case,
        object_type="plans.rating",
        object_id=rating.public_id,
        concerns=acting_client or _item_concerns(item),
        fields=["level"],
    )
    return rating


@transaction.atomic
def action_step_add(
    *, actor: User, item: PlanItem, text: str, client: Client | None = None, due_on: datetime.date | None = None
) -> ActionStep:
    """A small step towards a goal, for one client or (``client`` None, joint goals only) for both."""
    case, acting_client, item = _goal_for_write(actor, item)
    text = _clean_words(text, what="The step", limit=500)
    if due_on is not None and not isinstance(due_on, datetime.date):
        raise ValidationError("The due date is not a date.", code="bad_date")
    if item.scope == ItemScope.INDIVIDUAL:
        if client is not None and client.pk != item.owner_id:
            raise ValidationError("A step on an individual goal is for that goal's owner.", code="wrong_client")
        client = item.owner
    elif client is not None and not CaseMember.objects.filter(case=case, client=client).exists():
        raise ValidationError("This person is not a client of this case.", code="wrong_client")
    if acting_client is not None and client is not None and client.pk != acting_client.pk:
        raise PermissionDenied("You can add steps for yourself, or for both of you.")
    step = ActionStep.objects.create(practice_id=case.practice_id, item=item, client=client, text=text, due_on=due_on, created_by=actor)
    _audit(
        actor=actor, action=Action.CREATE, case=case, object_type="plans.step", object_id=step.public_id, concerns=client, fields=["text"]
    )
    return step


@transaction.atomic
def action_step_complete(*, actor: User, step: ActionStep, reflection: str = "") -> ActionStep:
    """A client checks off a step, with an optional short reflection that only they and the therapist see."""
    step = ActionStep.objects.select_for_update().get(pk=step.pk)
    item = PlanItem.objects.select_related("plan__case__practice", "plan__case__primary_therapist", "owner").get(pk=step.item_id)
    case = item.plan.case
    acting_client = client_in_case(actor, case)
    if acting_client is None or (step.client_id is not None and step.client_id != acting_client.pk):
        raise PermissionDenied("Only the client this step is for can check it off.")
    _require_concerns(acting_client, item)
    reflection = _clean_words(reflection, what="The reflection", required=False, limit=MAX_COMMENT)
    if step.done_at is not None:
        raise ValidationError("This step is already checked off.", code="done")
    step.done_at = timezone.now()
    step.done_by = actor
    step.reflection = reflection
    step.save(update_fields=["done_at", "done_by", "reflection", "updated_at"])
    _audit(
        actor=actor,
        action=Action.UPDATE,
        case=case,
        object_type="plans.step",
        object_id=step.public_id,
        # The reflection is its writer's alone (with the therapist): recorded against them only.
        concerns=acting_client if reflection else step.client,
        fields=["done_at"] + (["reflection"] if reflection else []),
    )
    return step
