"""Who sees what of a plan (ARCHITECTURE.md "Visibility rules"), where agreement stands, and history."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from rapport.audit.models import Action, AuditEvent
from rapport.plans.selectors import (
    AgreementStatus,
    agreement_state,
    items_needing_attention,
    plan_for_viewer,
    plan_versions,
    revision_get_for_user,
)
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
from tests.consenting import sign_all


@pytest.fixture
def couple_plan(world):
    """A joint goal by partner A, an individual goal each, and an approach by the therapist."""
    a, b, therapist = world.user("partner_a"), world.user("partner_b"), world.user("therapist_a")
    world.joint = plan_propose_goal(actor=a, case=world.couple_case, words="Argue less about money")
    world.a_own = plan_propose_goal(actor=a, case=world.couple_case, words="Pat's private goal", owner=world.partner_a)
    world.b_own = plan_propose_goal(actor=b, case=world.couple_case, words="Quinn's private goal", owner=world.partner_b)
    world.approach = plan_add_approach(actor=therapist, case=world.couple_case, words="Weekly sessions")
    return world


def _words(view) -> set[str]:
    return {v.revision.client_words for v in view.goals + view.approaches}


def _view(world, persona, **kwargs):
    return plan_for_viewer(world.user(persona), world.couple_case.public_id, **kwargs)


# Visibility


def test_a_partner_never_sees_the_other_partners_individual_goal(couple_plan):
    assert _words(_view(couple_plan, "partner_a")) == {"Argue less about money", "Pat's private goal", "Weekly sessions"}
    assert _words(_view(couple_plan, "partner_b")) == {"Argue less about money", "Quinn's private goal", "Weekly sessions"}


def test_the_therapist_sees_every_item(couple_plan):
    assert _words(_view(couple_plan, "therapist_a")) == {
        "Argue less about money",
        "Pat's private goal",
        "Quinn's private goal",
        "Weekly sessions",
    }


def test_a_supervisor_sees_the_plan_only_with_both_partners_consent(couple_plan):
    with pytest.raises(PermissionDenied):
        _view(couple_plan, "supervisor")
    sign_all(couple_plan.partner_a)
    sign_all(couple_plan.partner_b)
    assert len(_words(_view(couple_plan, "supervisor"))) == 4


@pytest.mark.parametrize("persona", ["therapist_b", "client", "other_practice_client"])
def test_outsiders_get_404(couple_plan, persona):
    with pytest.raises(Http404):
        _view(couple_plan, persona)


def test_a_partner_does_not_see_the_other_partners_ratings(couple_plan):
    goal = couple_plan.joint.item
    goal_rate(actor=couple_plan.user("partner_a"), item=goal, level=-1)
    goal_rate(actor=couple_plan.user("partner_b"), item=goal, level=1)
    goal_rate(actor=couple_plan.user("therapist_a"), item=goal, level=0)

    def ratings(persona):
        view = _view(couple_plan, persona)
        return sorted((r.rater_role, r.level) for g in view.goals if g.item == goal for r in g.ratings)

    assert ratings("partner_a") == [("client", -1), ("therapist", 0)]
    assert ratings("partner_b") == [("client", 1), ("therapist", 0)]
    assert ratings("therapist_a") == [("client", -1), ("client", 1), ("therapist", 0)]


def test_a_partner_sees_the_others_choice_on_a_joint_item_but_not_the_comment(couple_plan):
    plan_agree_item(actor=couple_plan.user("partner_a"), revision=couple_plan.joint, choice="talk", comment="Pat's comment")
    plan_agree_item(actor=couple_plan.user("partner_b"), revision=couple_plan.joint, choice="agree", comment="Quinn's comment")

    def answers(persona):
        view = _view(couple_plan, persona)
        (goal,) = [g for g in view.goals if g.item == couple_plan.joint.item]
        return {a.client.pk: (a.choice, a.comment) for a in goal.agreement.answers}

    pat, quinn = couple_plan.partner_a.pk, couple_plan.partner_b.pk
    assert answers("partner_b") == {pat: ("talk", None), quinn: ("agree", "Quinn's comment")}
    assert answers("partner_a") == {pat: ("talk", "Pat's comment"), quinn: ("agree", None)}
    assert answers("therapist_a") == {pat: ("talk", "Pat's comment"), quinn: ("agree", "Quinn's comment")}


def test_a_partner_sees_neither_the_others_steps_nor_the_others_reflection(couple_plan):
    goal = couple_plan.joint.item
    pats = action_step_add(actor=couple_plan.user("partner_a"), item=goal, text="Pat's step", client=couple_plan.partner_a)
    shared = action_step_add(actor=couple_plan.user("therapist_a"), item=goal, text="Both of us")
    action_step_complete(actor=couple_plan.user("partner_a"), step=shared, reflection="Pat's reflection")
    action_step_complete(actor=couple_plan.user("partner_a"), step=pats, reflection="Pat's own")

    def steps(persona):
        view = _view(couple_plan, persona)
        (goal_view,) = [g for g in view.goals if g.item == goal]
        return {s.step.text: s.reflection for s in goal_view.steps}

    assert steps("partner_b") == {"Both of us": None}
    assert steps("partner_a") == {"Both of us": "Pat's reflection", "Pat's step": "Pat's own"}
    assert steps("therapist_a") == {"Both of us": "Pat's reflection", "Pat's step": "Pat's own"}


def test_reading_the_plan_is_audited_against_the_readers_own_record(couple_plan):
    _view(couple_plan, "partner_b")
    reads = AuditEvent.objects.filter(object_type="plans.plan", action=Action.VIEW)
    assert list(reads.values_list("client_id", flat=True)) == [couple_plan.partner_b.public_id]
    _view(couple_plan, "therapist_a")
    assert reads.count() == 3


def test_a_case_without_a_plan_reads_as_empty(world):
    view = plan_for_viewer(world.user("client"), world.individual_case.public_id)
    assert view.version is None
    assert view.goals == []


def test_a_tampered_or_foreign_revision_id_is_404(couple_plan):
    for bad in ("not-a-uuid", uuid.uuid4(), couple_plan.a_own.public_id):
        with pytest.raises(Http404):
            revision_get_for_user(couple_plan.user("partner_b"), bad)
    with pytest.raises(Http404):
        revision_get_for_user(couple_plan.user("other_practice_client"), couple_plan.joint.public_id)
    assert revision_get_for_user(couple_plan.user("partner_a"), couple_plan.a_own.public_id) == couple_plan.a_own


# Agreement state


def test_agreement_waits_for_each_partner_then_holds(couple_plan):
    joint = couple_plan.joint
    assert agreement_state(joint).status == AgreementStatus.WAITING
    plan_agree_item(actor=couple_plan.user("partner_a"), revision=joint, choice="agree")
    state = agreement_state(joint)
    assert state.status == AgreementStatus.WAITING
    assert state.waiting_for == [couple_plan.partner_b]
    plan_agree_item(actor=couple_plan.user("partner_b"), revision=joint, choice="agree")
    assert agreement_state(joint).status == AgreementStatus.AGREED


def test_a_difference_between_partners_on_a_joint_item_shows(couple_plan):
    plan_agree_item(actor=couple_plan.user("partner_a"), revision=couple_plan.joint, choice="agree")
    plan_agree_item(actor=couple_plan.user("partner_b"), revision=couple_plan.joint, choice="talk")
    assert agreement_state(couple_plan.joint).status == AgreementStatus.DIFFERENCE


def test_changing_ones_mind_replaces_the_answer(couple_plan):
    plan_agree_item(actor=couple_plan.user("partner_a"), revision=couple_plan.a_own, choice="disagree")
    assert agreement_state(couple_plan.a_own).status == AgreementStatus.DIFFERENCE
    plan_agree_item(actor=couple_plan.user("partner_a"), revision=couple_plan.a_own, choice="agree")
    assert agreement_state(couple_plan.a_own).status == AgreementStatus.AGREED


def test_an_individual_item_waits_for_its_owner_only(couple_plan):
    assert agreement_state(couple_plan.a_own).waiting_for == [couple_plan.partner_a]


def test_the_therapist_sees_the_items_waiting_or_disputed_and_an_edit_resets_only_that_item(couple_plan):
    world = couple_plan
    for persona in ("partner_a", "partner_b"):
        plan_agree_item(actor=world.user(persona), revision=world.joint, choice="agree")
        plan_agree_item(actor=world.user(persona), revision=world.approach, choice="agree")
    plan_agree_item(actor=world.user("partner_a"), revision=world.a_own, choice="agree")
    plan_agree_item(actor=world.user("partner_b"), revision=world.b_own, choice="disagree")
    needing = {v.item.pk: v.agreement.status for v in items_needing_attention(world.couple_case)}
    assert needing == {world.b_own.item_id: AgreementStatus.DIFFERENCE}

    plan_item_revise(actor=world.user("therapist_a"), revision=world.approach, words="Fortnightly sessions")
    needing = {v.item.pk: v.agreement.status for v in items_needing_attention(world.couple_case)}
    assert needing == {world.b_own.item_id: AgreementStatus.DIFFERENCE, world.approach.item_id: AgreementStatus.WAITING}


def test_removed_items_need_no_attention(couple_plan):
    plan_item_remove(actor=couple_plan.user("therapist_a"), revision=couple_plan.approach)
    assert couple_plan.approach.item_id not in {v.item.pk for v in items_needing_attention(couple_plan.couple_case)}


# History


def test_old_versions_stay_readable(couple_plan):
    world = couple_plan
    plan_item_revise(actor=world.user("partner_a"), revision=world.joint, words="Talk about money calmly")
    plan_item_remove(actor=world.user("therapist_a"), revision=world.approach)
    now = _view(world, "therapist_a")
    assert now.is_current
    assert now.version.number == 6
    assert "Talk about money calmly" in _words(now)
    assert "Weekly sessions" not in _words(now)
    then = _view(world, "therapist_a", version=4)
    assert not then.is_current
    assert _words(then) == {"Argue less about money", "Pat's private goal", "Quinn's private goal", "Weekly sessions"}
    assert _words(_view(world, "therapist_a", version=1)) == {"Argue less about money"}
    with pytest.raises(Http404):
        _view(world, "therapist_a", version=99)


def test_an_old_version_still_hides_the_other_partners_own_items(couple_plan):
    assert _words(_view(couple_plan, "partner_a", version=3)) == {"Argue less about money", "Pat's private goal"}


def test_the_history_says_who_changed_what_and_hides_the_other_partners_own_items(couple_plan):
    world = couple_plan
    plan_item_revise(actor=world.user("partner_b"), revision=world.b_own, words="Quinn's goal, reworded")
    everything = plan_versions(world.user("therapist_a"), world.couple_case.public_id)
    assert [(v.number, v.created_by, v.note) for v in everything] == [
        (5, world.user("partner_b"), "Goal changed: client words"),
        (4, world.user("therapist_a"), "Approach added"),
        (3, world.user("partner_b"), "Goal added"),
        (2, world.user("partner_a"), "Goal added"),
        (1, world.user("partner_a"), "Goal added"),
    ]
    assert [v.number for v in plan_versions(world.user("partner_a"), world.couple_case.public_id)] == [4, 2, 1]
    with pytest.raises(Http404):
        plan_versions(world.user("therapist_b"), world.couple_case.public_id)
