"""The client's plan page in the portal: what it shows, and proposing, answering, rating, checking off.

Bad input (a tampered id, the other partner's item, a level out of range, an answer on words that
have changed) gets a clear message or a 404, and changes nothing.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from rapport.audit.models import Action, AuditEvent
from rapport.core.todo import todos_for
from rapport.plans.models import ActionStep, Agreement, GoalRating, ItemRevision, PlanItem
from rapport.plans.services import (
    action_step_add,
    plan_add_approach,
    plan_agree_item,
    plan_item_revise,
    plan_propose_goal,
)


def _url(case) -> str:
    return reverse("portal:case_plan", kwargs={"case_id": case.public_id})


@pytest.fixture
def couple_plan(world):
    """A joint goal by partner A (framed by the therapist), an individual goal each, an approach, steps."""
    a, b, therapist = world.user("partner_a"), world.user("partner_b"), world.user("therapist_a")
    world.joint = plan_propose_goal(actor=a, case=world.couple_case, words="Argue less about money")
    world.joint = plan_item_revise(actor=therapist, revision=world.joint, framing="Conflict around finances")
    world.a_own = plan_propose_goal(actor=a, case=world.couple_case, words="Pat's private goal", owner=world.partner_a)
    world.b_own = plan_propose_goal(actor=b, case=world.couple_case, words="Quinn's private goal", owner=world.partner_b)
    world.approach = plan_add_approach(actor=therapist, case=world.couple_case, words="Weekly sessions")
    world.joint_step = action_step_add(actor=therapist, item=world.joint.item, text="Plan one money talk")
    world.b_step = action_step_add(actor=therapist, item=world.joint.item, text="Quinn's own step", client=world.partner_b)
    return world


def _newest_revision() -> ItemRevision:
    revision = ItemRevision.objects.select_related("item").order_by("-id").first()
    assert revision is not None
    return revision


def _snapshot() -> tuple[int, ...]:
    return (
        PlanItem.objects.count(),
        ItemRevision.objects.count(),
        Agreement.objects.count(),
        GoalRating.objects.count(),
        ActionStep.objects.filter(done_at__isnull=False).count(),
    )


# --- The page ---------------------------------------------------------------------------------------


def test_page_shows_joint_and_own_items_with_author_framing_and_state(couple_plan, client_as):
    response = client_as("partner_a").get(_url(couple_plan.couple_case))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Argue less about money" in html
    assert "Written by you" in html
    assert "Conflict around finances" in html
    assert "Pat&#x27;s private goal" in html
    assert "Weekly sessions" in html
    assert "Written by Theo Treating" in html
    assert "Waiting for your answer" in html
    assert "Plan one money talk" in html
    # Never the other partner's own goal, nor her own step.
    assert "Quinn&#x27;s private goal" not in html
    assert "Quinn&#x27;s own step" not in html


def test_page_read_is_audited_against_the_readers_record_only(couple_plan, client_as):
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    client_as("partner_a").get(_url(couple_plan.couple_case))
    views = AuditEvent.objects.filter(id__gt=mark, action=Action.VIEW, object_type="plans.plan")
    assert [str(e.client_id) for e in views] == [str(couple_plan.partner_a.public_id)]


def test_difference_and_the_other_partners_answer_show_but_not_her_comment(couple_plan, client_as):
    plan_agree_item(actor=couple_plan.user("partner_b"), revision=couple_plan.joint, choice="talk", comment="Quinn's secret comment")
    html = client_as("partner_a").get(_url(couple_plan.couple_case)).content.decode()
    assert "There is a difference to talk about" in html
    assert "Quinn Partner: I want to talk about it" in html
    assert "secret comment" not in html


def test_staff_and_outsiders_cannot_open_it(couple_plan, client_as):
    assert client_as("therapist_a").get(_url(couple_plan.couple_case)).status_code == 403
    assert client_as("client").get(_url(couple_plan.couple_case)).status_code == 404
    assert client_as("other_practice_client").get(_url(couple_plan.couple_case)).status_code == 404


def test_empty_plan_of_an_individual_case_offers_to_propose_without_a_scope(world, client_as):
    html = client_as("client").get(_url(world.individual_case)).content.decode()
    assert "My plan" in html
    assert "There are no goals yet" in html
    assert 'name="scope"' not in html


# --- Proposing ----------------------------------------------------------------------------------------


def test_client_proposes_a_goal_in_her_words_for_herself(couple_plan, client_as):
    response = client_as("partner_a").post(
        _url(couple_plan.couple_case), {"action": "propose", "words": "  Sleep before midnight ", "scope": "own"}
    )
    assert response.status_code == 303
    revision = _newest_revision()
    assert revision.client_words == "Sleep before midnight"
    assert revision.item.owner == couple_plan.partner_a
    assert revision.written_by == couple_plan.user("partner_a")
    assert "Sleep before midnight" not in client_as("partner_b").get(_url(couple_plan.couple_case)).content.decode()


def test_client_of_an_individual_case_proposes_a_joint_goal(world, client_as):
    response = client_as("client").post(_url(world.individual_case), {"action": "propose", "words": "Walk every day"})
    assert response.status_code == 303
    revision = _newest_revision()
    assert (revision.client_words, revision.item.scope) == ("Walk every day", "joint")


def test_empty_goal_is_refused_and_changes_nothing(couple_plan, client_as):
    before = _snapshot()
    response = client_as("partner_a").post(_url(couple_plan.couple_case), {"action": "propose", "words": "   ", "scope": "joint"})
    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()
    assert _snapshot() == before


def test_refused_proposal_keeps_the_typed_text(couple_plan, client_as):
    words = "x" * 2001
    response = client_as("partner_a").post(_url(couple_plan.couple_case), {"action": "propose", "words": words, "scope": "own"})
    assert response.status_code == 400
    html = response.content.decode()
    assert words in html
    assert 'value="own" id="scope-own" checked' in html


def test_unknown_action_and_scope_change_nothing(couple_plan, client_as):
    before = _snapshot()
    browser = client_as("partner_a")
    assert browser.post(_url(couple_plan.couple_case), {"action": "delete-everything"}).status_code == 400
    assert browser.post(_url(couple_plan.couple_case), {"action": "propose", "words": "A goal", "scope": "theirs"}).status_code == 400
    assert _snapshot() == before


# --- Answering ----------------------------------------------------------------------------------------


def _answer(browser, case, revision, choice, comment=""):
    return browser.post(_url(case), {"action": "answer", "item": str(revision.public_id), "choice": choice, "comment": comment})


def test_client_wants_to_talk_about_a_joint_goal(couple_plan, client_as):
    browser = client_as("partner_b")
    response = _answer(browser, couple_plan.couple_case, couple_plan.joint, "talk", "Not sure about money")
    assert response.status_code == 303
    agreement = Agreement.objects.get()
    assert (agreement.client, agreement.choice, agreement.comment) == (couple_plan.partner_b, "talk", "Not sure about money")
    html = browser.get(_url(couple_plan.couple_case)).content.decode()
    assert "You: I want to talk about it — “Not sure about money”" in html


def test_bad_choice_keeps_the_comment_and_changes_nothing(couple_plan, client_as):
    response = _answer(client_as("partner_a"), couple_plan.couple_case, couple_plan.joint, "maybe", "My typed comment")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Choose: I agree" in html
    assert "My typed comment</textarea>" in html
    assert not Agreement.objects.exists()


def test_answer_on_a_superseded_wording_is_refused(couple_plan, client_as):
    old = couple_plan.joint
    plan_item_revise(actor=couple_plan.user("partner_a"), revision=old, words="Argue less about spending")
    response = _answer(client_as("partner_b"), couple_plan.couple_case, old, "agree")
    assert response.status_code == 400
    assert "This item has changed since you opened it" in response.content.decode()
    assert not Agreement.objects.exists()


def test_the_other_partners_own_item_is_404_and_changes_nothing(couple_plan, client_as):
    before = _snapshot()
    browser = client_as("partner_a")
    assert _answer(browser, couple_plan.couple_case, couple_plan.b_own, "agree").status_code == 404
    rate = {"action": "rate", "item": str(couple_plan.b_own.public_id), "level": "1"}
    assert browser.post(_url(couple_plan.couple_case), rate).status_code == 404
    step = {"action": "step", "step": str(couple_plan.b_step.public_id)}
    assert browser.post(_url(couple_plan.couple_case), step).status_code == 404
    assert _snapshot() == before


def test_tampered_ids_and_another_cases_item_are_404(couple_plan, client_as):
    own_goal = plan_propose_goal(actor=couple_plan.user("client"), case=couple_plan.individual_case, words="Cora's goal")
    before = _snapshot()
    browser = client_as("client")
    for bad in (str(uuid.uuid4()), "not-a-uuid", ""):
        assert browser.post(_url(couple_plan.individual_case), {"action": "answer", "item": bad, "choice": "agree"}).status_code == 404
    # Partner A's joint item posted through the individual case's page: not this case's.
    browser_a = client_as("partner_a")
    assert _answer(browser_a, couple_plan.individual_case, couple_plan.joint, "agree").status_code == 404
    # Cora's item through the couple's page: she is not in that case at all.
    assert _answer(browser, couple_plan.couple_case, own_goal, "agree").status_code == 404
    assert _snapshot() == before


# --- Rating and steps ---------------------------------------------------------------------------------


def test_client_rates_a_goal(couple_plan, client_as):
    browser = client_as("partner_a")
    response = browser.post(_url(couple_plan.couple_case), {"action": "rate", "item": str(couple_plan.joint.public_id), "level": "-1"})
    assert response.status_code == 303
    rating = GoalRating.objects.get()
    assert (rating.level, rating.client) == (-1, couple_plan.partner_a)
    assert "Your last rating: -1" in browser.get(_url(couple_plan.couple_case)).content.decode()


@pytest.mark.parametrize("level", ["3", "-3", "one", ""])
def test_rating_out_of_range_is_refused(couple_plan, client_as, level):
    response = client_as("partner_a").post(
        _url(couple_plan.couple_case), {"action": "rate", "item": str(couple_plan.joint.public_id), "level": level}
    )
    assert response.status_code == 400
    assert "-2, -1, 0, +1 or +2" in response.content.decode()
    assert not GoalRating.objects.exists()


def test_an_approach_is_not_rated(couple_plan, client_as):
    response = client_as("partner_a").post(
        _url(couple_plan.couple_case), {"action": "rate", "item": str(couple_plan.approach.public_id), "level": "0"}
    )
    assert response.status_code == 400
    assert not GoalRating.objects.exists()


def test_level_descriptions_are_shown(world, client_as):
    levels = {"-2": "Daily fights", "-1": "Weekly fights", "0": "A calm talk a week", "1": "Two calm talks", "2": "We plan together"}
    plan_propose_goal(actor=world.user("therapist_a"), case=world.individual_case, words="Calmer talks", gas_levels=levels)
    html = client_as("client").get(_url(world.individual_case)).content.decode()
    for text in levels.values():
        assert text in html
    assert "(what we expect): A calm talk a week" in html


def test_client_checks_off_a_joint_step_with_a_reflection_once(couple_plan, client_as):
    browser = client_as("partner_a")
    form = {"action": "step", "step": str(couple_plan.joint_step.public_id), "reflection": "It went well"}
    assert browser.post(_url(couple_plan.couple_case), form).status_code == 303
    step = ActionStep.objects.get(pk=couple_plan.joint_step.pk)
    assert step.done_by == couple_plan.user("partner_a")
    assert step.reflection == "It went well"
    again = browser.post(_url(couple_plan.couple_case), form)
    assert again.status_code == 400
    assert "already checked off" in again.content.decode()
    # The other partner sees the step done, not the reflection.
    html = client_as("partner_b").get(_url(couple_plan.couple_case)).content.decode()
    assert "It went well" not in html


# --- Things to do -------------------------------------------------------------------------------------


def test_things_to_do_lists_a_plan_waiting_for_the_clients_answer(couple_plan, client_as):
    labels = [t.label for t in todos_for(couple_plan.partner_b)]
    # The joint goal, her own goal and the approach wait for her.
    assert "Your plan: 3 items waiting for your answer" in labels
    for revision in (couple_plan.joint, couple_plan.b_own, couple_plan.approach):
        plan_agree_item(actor=couple_plan.user("partner_b"), revision=revision, choice="agree")
    assert not [t for t in todos_for(couple_plan.partner_b) if "waiting for your answer" in t.label]
    html = client_as("partner_a").get(reverse("portal:home")).content.decode()
    assert "Your plan: 3 items waiting for your answer" in html
    assert _url(couple_plan.couple_case) in html
