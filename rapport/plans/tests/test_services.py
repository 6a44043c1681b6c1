"""Writing a plan together: proposing, rewording, removing, agreeing, rating, action steps (both databases)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.audit.models import Action, AuditEvent
from rapport.clients.services import case_set_status
from rapport.plans.models import ActionStep, Agreement, ChangeKind, GoalRating, ItemRevision, ItemScope, PlanItem, PlanVersion
from rapport.plans.services import (
    action_step_add,
    action_step_complete,
    goal_rate,
    plan_add_approach,
    plan_agree_item,
    plan_item_remove,
    plan_item_revise,
    plan_propose_goal,
)
from tests.sessions import book

LEVELS = {-2: "We stop talking at all", -1: "We argue most evenings", 0: "We talk calmly twice a week", 1: "Most evenings", 2: "Every day"}


def _joint_goal(world, persona="partner_a", words="We want to argue less about money"):
    return plan_propose_goal(actor=world.user(persona), case=world.couple_case, words=words)


def _nothing_written(before_versions: int, before_audit: int) -> None:
    assert PlanVersion.objects.count() == before_versions
    assert AuditEvent.objects.count() == before_audit


# Proposing


def test_a_client_proposes_a_goal_in_her_own_words_kept_exactly(world):
    words = "  I'd like us to stop   shouting — really.  "
    revision = plan_propose_goal(actor=world.user("partner_a"), case=world.couple_case, words=words)
    revision = ItemRevision.objects.get(pk=revision.pk)
    assert revision.client_words == "I'd like us to stop   shouting — really."
    assert revision.written_by == world.user("partner_a")
    assert revision.item.scope == ItemScope.JOINT
    assert revision.item.owner is None
    assert revision.version.number == 1
    assert revision.version.change == ChangeKind.PROPOSED
    assert revision.version.created_by == world.user("partner_a")
    assert revision.item.added_in == revision.version


def test_the_client_words_are_encrypted_at_rest(world):
    revision = _joint_goal(world, words="Fictional words nobody should read in the database")
    raw = ItemRevision.objects.filter(pk=revision.pk).values_list("client_words", flat=True).get()
    assert "Fictional" not in raw


def test_the_therapist_drafts_a_goal_with_framing_levels_and_weight(world):
    revision = plan_propose_goal(
        actor=world.user("therapist_a"),
        case=world.individual_case,
        words="Sleep through the night",
        framing="Working on worry before bed",
        gas_levels=LEVELS,
        weight=2,
    )
    revision = ItemRevision.objects.get(pk=revision.pk)
    assert revision.therapist_framing == "Working on worry before bed"
    assert revision.gas_levels == {str(k): v for k, v in LEVELS.items()}
    assert revision.weight == 2


def test_each_change_makes_the_next_version(world):
    first = _joint_goal(world)
    plan_add_approach(actor=world.user("therapist_a"), case=world.couple_case, words="Weekly sessions, online")
    plan_item_revise(actor=world.user("partner_a"), revision=first, words="We want to argue less")
    assert list(PlanVersion.objects.filter(plan__case=world.couple_case).values_list("number", "change")) == [
        (1, "proposed"),
        (2, "proposed"),
        (3, "revised"),
    ]


def test_a_partner_proposes_an_individual_goal_for_herself_only(world):
    own = plan_propose_goal(actor=world.user("partner_a"), case=world.couple_case, words="Take up running", owner=world.partner_a)
    assert own.item.owner == world.partner_a
    assert own.item.scope == ItemScope.INDIVIDUAL
    with pytest.raises(PermissionDenied):
        plan_propose_goal(actor=world.user("partner_a"), case=world.couple_case, words="Be tidier", owner=world.partner_b)


def test_an_individual_case_has_no_individual_items(world):
    with pytest.raises(ValidationError):
        plan_propose_goal(actor=world.user("therapist_a"), case=world.individual_case, words="x", owner=world.client)


@pytest.mark.parametrize("persona", ["therapist_b", "supervisor", "admin", "client", "other_practice_client"])
def test_people_outside_the_case_cannot_propose(world, persona):
    with pytest.raises(PermissionDenied):
        plan_propose_goal(actor=world.user(persona), case=world.couple_case, words="Anything")
    assert not PlanItem.objects.exists()


def test_a_client_cannot_add_framing(world):
    with pytest.raises(PermissionDenied):
        plan_propose_goal(actor=world.user("partner_a"), case=world.couple_case, words="Calmer", framing="My framing")
    assert not PlanItem.objects.exists()


@pytest.mark.parametrize(
    ("words", "levels", "weight"),
    [
        ("   ", None, None),
        ("x" * 2001, None, None),
        ("ok", {0: "expected"}, None),
        ("ok", {**LEVELS, 0: ""}, None),
        ("ok", {"a": "b"}, None),
        ("ok", None, 0),
        ("ok", None, True),
    ],
)
def test_bad_goal_input_is_refused_and_writes_nothing(world, words, levels, weight):
    before = (PlanVersion.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError):
        plan_propose_goal(actor=world.user("therapist_a"), case=world.individual_case, words=words, gas_levels=levels, weight=weight)
    _nothing_written(*before)
    assert not PlanItem.objects.exists()


def test_a_closed_case_plan_does_not_change(world):
    case_set_status(actor=world.user("therapist_a"), case=world.individual_case, status="closed")
    with pytest.raises(ValidationError):
        plan_propose_goal(actor=world.user("client"), case=world.individual_case, words="Later")


# Rewording


def test_the_therapist_cannot_rewrite_the_clients_words_but_may_frame_them(world):
    revision = _joint_goal(world)
    before = (PlanVersion.objects.count(), AuditEvent.objects.count())
    with pytest.raises(PermissionDenied, match="Only the person who wrote these words"):
        plan_item_revise(actor=world.user("therapist_a"), revision=revision, words="Reduce conflict about finances")
    _nothing_written(*before)
    framed = plan_item_revise(actor=world.user("therapist_a"), revision=revision, framing="Conflict around money")
    assert framed.client_words == "We want to argue less about money"
    assert framed.written_by == world.user("partner_a")
    assert framed.therapist_framing == "Conflict around money"
    assert framed.version.note == "Goal changed: therapist framing"


def test_the_other_partner_cannot_rewrite_a_joint_goal_she_did_not_write(world):
    revision = _joint_goal(world)
    with pytest.raises(PermissionDenied):
        plan_item_revise(actor=world.user("partner_b"), revision=revision, words="Spend less")


def test_the_author_rewords_and_only_that_items_agreement_resets(world):
    goal = _joint_goal(world)
    other = _joint_goal(world, persona="partner_b", words="Have one evening a week together")
    for persona in ("partner_a", "partner_b"):
        plan_agree_item(actor=world.user(persona), revision=goal, choice="agree")
        plan_agree_item(actor=world.user(persona), revision=other, choice="agree")
    new = plan_item_revise(actor=world.user("partner_a"), revision=goal, words="We want to argue less")
    assert new.item_id == goal.item_id
    assert new.number == 2
    assert not new.agreements.exists()
    assert other.agreements.count() == 2
    # The old wording stays readable as history, with the answers it got.
    assert ItemRevision.objects.get(pk=goal.pk).client_words == "We want to argue less about money"
    assert goal.agreements.count() == 2


def test_an_edit_of_a_superseded_wording_is_refused(world):
    goal = _joint_goal(world)
    plan_item_revise(actor=world.user("partner_a"), revision=goal, words="Second wording")
    with pytest.raises(ValidationError, match="changed since you opened it"):
        plan_item_revise(actor=world.user("partner_a"), revision=goal, words="Third wording")


def test_an_edit_that_changes_nothing_is_refused(world):
    goal = _joint_goal(world)
    with pytest.raises(ValidationError, match="Nothing was changed"):
        plan_item_revise(actor=world.user("partner_a"), revision=goal, words="  We want to argue less about money ")


def test_levels_are_the_authors_words_and_the_therapist_sets_the_weight(world):
    goal = _joint_goal(world)
    with pytest.raises(PermissionDenied):
        plan_item_revise(actor=world.user("therapist_a"), revision=goal, gas_levels=LEVELS)
    weighted = plan_item_revise(actor=world.user("therapist_a"), revision=goal, weight=3)
    scaled = plan_item_revise(actor=world.user("partner_a"), revision=weighted, gas_levels=LEVELS)
    assert (scaled.weight, scaled.gas_levels["0"]) == (3, LEVELS[0])


# Removing


def test_removal_is_a_new_version_and_the_item_stays_in_history(world):
    goal = _joint_goal(world)
    version = plan_item_remove(actor=world.user("therapist_a"), revision=goal)
    item = PlanItem.objects.get(pk=goal.item_id)
    assert item.removed_in == version
    assert version.change == ChangeKind.REMOVED
    with pytest.raises(ValidationError, match="removed"):
        plan_agree_item(actor=world.user("partner_b"), revision=goal, choice="agree")


def test_a_client_removes_only_what_she_wrote(world):
    approach = plan_add_approach(actor=world.user("therapist_a"), case=world.couple_case, words="Fortnightly sessions")
    with pytest.raises(PermissionDenied):
        plan_item_remove(actor=world.user("partner_a"), revision=approach)
    own = _joint_goal(world)
    plan_item_remove(actor=world.user("partner_a"), revision=own)


# Agreeing


def test_each_partner_answers_a_joint_item_separately(world):
    goal = _joint_goal(world)
    plan_agree_item(actor=world.user("partner_a"), revision=goal, choice="agree")
    answer = plan_agree_item(actor=world.user("partner_b"), revision=goal, choice="talk", comment="Not sure about the wording")
    assert answer.client == world.partner_b
    assert answer.comment == "Not sure about the wording"
    assert set(goal.agreements.values_list("client_id", "choice")) == {(world.partner_a.pk, "agree"), (world.partner_b.pk, "talk")}


def test_agreeing_to_a_superseded_wording_is_refused(world):
    goal = _joint_goal(world)
    plan_item_revise(actor=world.user("partner_a"), revision=goal, words="New words")
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="changed since you opened it"):
        plan_agree_item(actor=world.user("partner_b"), revision=goal, choice="agree")
    assert not Agreement.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_partner_cannot_answer_on_the_other_partners_individual_item(world):
    own = plan_propose_goal(actor=world.user("partner_a"), case=world.couple_case, words="Run a 5k", owner=world.partner_a)
    with pytest.raises(PermissionDenied):
        plan_agree_item(actor=world.user("partner_b"), revision=own, choice="disagree")
    assert not Agreement.objects.exists()


@pytest.mark.parametrize("persona", ["therapist_a", "client", "other_practice_client", "supervisor"])
def test_only_the_cases_clients_answer(world, persona):
    goal = _joint_goal(world)
    with pytest.raises(PermissionDenied):
        plan_agree_item(actor=world.user(persona), revision=goal, choice="agree")


def test_an_unknown_choice_is_refused(world):
    goal = _joint_goal(world)
    with pytest.raises(ValidationError):
        plan_agree_item(actor=world.user("partner_a"), revision=goal, choice="maybe")
    assert not Agreement.objects.exists()


# Rating


@pytest.mark.parametrize("level", [-3, 3, 1.5, "1", True, None])
def test_a_rating_outside_minus_two_to_plus_two_is_refused(world, level):
    goal = _joint_goal(world)
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match="-2, -1, 0, \\+1 or \\+2"):
        goal_rate(actor=world.user("partner_a"), item=goal.item, level=level)
    assert not GoalRating.objects.exists()
    assert AuditEvent.objects.count() == before


def test_client_and_therapist_rate_separately_at_the_current_version(world):
    goal = _joint_goal(world)
    session = book(world, world.couple_case, "couple", hour=10)
    mine = goal_rate(actor=world.user("partner_a"), item=goal.item, level=-1)
    theirs = goal_rate(actor=world.user("therapist_a"), item=goal.item, level=0, appointment=session)
    assert (mine.rater_role, mine.client, mine.level) == ("client", world.partner_a, -1)
    assert (theirs.rater_role, theirs.client, theirs.appointment) == ("therapist", None, session)
    assert mine.version == goal.version


def test_a_rating_linked_to_another_cases_session_is_refused(world):
    goal = _joint_goal(world)
    session = book(world, world.individual_case, "individual", hour=11)
    with pytest.raises(ValidationError):
        goal_rate(actor=world.user("therapist_a"), item=goal.item, level=1, appointment=session)


def test_approaches_are_not_rated(world):
    approach = plan_add_approach(actor=world.user("therapist_a"), case=world.couple_case, words="Weekly")
    with pytest.raises(ValidationError):
        goal_rate(actor=world.user("therapist_a"), item=approach.item, level=0)


def test_a_partner_cannot_rate_the_other_partners_individual_goal(world):
    own = plan_propose_goal(actor=world.user("partner_b"), case=world.couple_case, words="Sleep more", owner=world.partner_b)
    with pytest.raises(PermissionDenied):
        goal_rate(actor=world.user("partner_a"), item=own.item, level=0)


# Action steps


def test_a_client_checks_off_her_step_with_a_reflection(world):
    goal = _joint_goal(world)
    step = action_step_add(
        actor=world.user("therapist_a"),
        item=goal.item,
        text="Talk about the budget on Sunday",
        client=world.partner_a,
        due_on=datetime.date(2026, 12, 6),
    )
    done = action_step_complete(actor=world.user("partner_a"), step=step, reflection="Harder than I thought")
    done = ActionStep.objects.get(pk=done.pk)
    assert done.done_at is not None
    assert done.done_by == world.user("partner_a")
    assert done.reflection == "Harder than I thought"
    with pytest.raises(ValidationError, match="already"):
        action_step_complete(actor=world.user("partner_a"), step=step)


def test_a_step_for_one_partner_cannot_be_checked_off_by_the_other(world):
    goal = _joint_goal(world)
    step = action_step_add(actor=world.user("partner_a"), item=goal.item, text="Walk together", client=world.partner_a)
    with pytest.raises(PermissionDenied):
        action_step_complete(actor=world.user("partner_b"), step=step)
    assert ActionStep.objects.get(pk=step.pk).done_at is None


def test_a_joint_step_can_be_checked_off_by_either_partner(world):
    goal = _joint_goal(world)
    step = action_step_add(actor=world.user("therapist_a"), item=goal.item, text="Plan a date")
    assert step.client is None
    action_step_complete(actor=world.user("partner_b"), step=step)


def test_a_client_adds_steps_only_for_herself_or_both(world):
    goal = _joint_goal(world)
    with pytest.raises(PermissionDenied):
        action_step_add(actor=world.user("partner_a"), item=goal.item, text="Call mum", client=world.partner_b)


def test_a_step_on_an_individual_goal_is_the_owners(world):
    own = plan_propose_goal(actor=world.user("partner_a"), case=world.couple_case, words="Run", owner=world.partner_a)
    step = action_step_add(actor=world.user("therapist_a"), item=own.item, text="Buy shoes")
    assert step.client == world.partner_a
    with pytest.raises(ValidationError):
        action_step_add(actor=world.user("therapist_a"), item=own.item, text="Buy shoes", client=world.partner_b)


# Audit


def test_joint_changes_are_audited_for_both_partners_without_content(world):
    goal = _joint_goal(world)
    events = AuditEvent.objects.filter(object_type="plans.item", object_id=goal.item.public_id, action=Action.CREATE)
    assert set(events.values_list("client_id", flat=True)) == {world.partner_a.public_id, world.partner_b.public_id}
    assert all("argue" not in str(e.detail) for e in events)


def test_a_partners_own_material_is_audited_against_her_record_only(world):
    own = plan_propose_goal(actor=world.user("partner_a"), case=world.couple_case, words="Run", owner=world.partner_a)
    rating = goal_rate(actor=world.user("partner_a"), item=own.item, level=1)
    joint = _joint_goal(world)
    answer = plan_agree_item(actor=world.user("partner_a"), revision=joint, choice="talk", comment="Words")
    for object_id in (own.item.public_id, rating.public_id, answer.public_id):
        assert list(AuditEvent.objects.filter(object_id=object_id).values_list("client_id", flat=True)) == [world.partner_a.public_id]


def test_every_write_is_audited(world):
    goal = _joint_goal(world)
    revised = plan_item_revise(actor=world.user("therapist_a"), revision=goal, framing="Money")
    plan_agree_item(actor=world.user("partner_b"), revision=revised, choice="agree")
    goal_rate(actor=world.user("therapist_a"), item=goal.item, level=0)
    step = action_step_add(actor=world.user("therapist_a"), item=goal.item, text="Budget")
    action_step_complete(actor=world.user("partner_a"), step=step)
    plan_item_remove(actor=world.user("therapist_a"), revision=revised)
    seen = set(AuditEvent.objects.filter(object_type__startswith="plans.").values_list("object_type", "action"))
    assert seen == {
        ("plans.item", "create"),
        ("plans.item", "update"),
        ("plans.item", "delete"),
        ("plans.agreement", "create"),
        ("plans.rating", "create"),
        ("plans.step", "create"),
        ("plans.step", "update"),
    }
