"""The client's plan page in the portal: what it shows; proposing, answering, rating, adding and checking
off steps, rewording one's own goal and writing its levels; the plan's history; the steps in "Things to do".

Bad input (a tampered id, the other partner's item, a level out of range, an answer on words that
have changed) gets a clear message or a 404, and changes nothing.
"""

from __future__ import annotations

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.audit.models import Action, AuditEvent
from rapport.core.todo import todos_for
from rapport.plans.models import ActionStep, Agreement, GoalRating, ItemRevision, PlanItem
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
from rapport.plans.todo import due_words
from tests.past_sessions import session_at


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
    # No session of the case today or in the last week: the rating stands on its own.
    assert rating.appointment is None


def test_a_client_rating_is_linked_to_the_session_of_the_day(couple_plan, client_as):
    earlier = session_at(couple_plan.couple_case, timezone.now() - datetime.timedelta(days=9))
    held = session_at(couple_plan.couple_case, timezone.now() - datetime.timedelta(days=2))
    assert earlier != held
    client_as("partner_a").post(_url(couple_plan.couple_case), {"action": "rate", "item": str(couple_plan.joint.public_id), "level": "1"})
    assert GoalRating.objects.get().appointment == held


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


def _step_todos(client) -> list:
    return [t for t in todos_for(client) if "step" in t.label]


def test_due_words_are_plain():
    today = datetime.date(2026, 11, 26)
    assert due_words(None, today) == ""
    assert due_words(today, today) == "due today"
    assert due_words(datetime.date(2026, 12, 4), today) == "due Friday 4 December"
    assert due_words(datetime.date(2026, 11, 20), today) == "overdue since Friday 20 November"
    assert due_words(datetime.date(2027, 1, 8), today) == "due Friday 8 January 2027"


def test_things_to_do_lists_each_open_step_of_the_client_never_the_other_partners(couple_plan, client_as):
    a = couple_plan.user("partner_a")
    today = timezone.localdate(timezone=ZoneInfo(couple_plan.partner_a.time_zone))
    soon = today + datetime.timedelta(days=3)
    late = action_step_add(actor=a, item=couple_plan.a_own.item, text="Pat's late step", due_on=today - datetime.timedelta(days=2))
    dated = action_step_add(actor=a, item=couple_plan.joint.item, text="Pat's dated step", client=couple_plan.partner_a, due_on=soon)
    todos = _step_todos(couple_plan.partner_a)
    # Overdue first, then the soonest, then the undated joint step; never Quinn's own step.
    assert [t.url.rsplit("#step-", 1)[1] for t in todos] == [
        str(late.public_id),
        str(dated.public_id),
        str(couple_plan.joint_step.public_id),
    ]
    assert todos[0].label.startswith("Your plan: a step to take, overdue since ")
    assert todos[1].label == f"Your plan: a step to take, {due_words(soon, today)}"
    assert todos[2].label == "Your plan: a step for both of you"
    # No clinical text on the home page, and each link lands on its step on the plan page.
    html = client_as("partner_a").get(reverse("portal:home")).content.decode()
    assert "Pat&#x27;s late step" not in html
    assert "Pat's late step" not in html
    plan_html = client_as("partner_a").get(_url(couple_plan.couple_case)).content.decode()
    for todo in todos:
        assert todo.url.startswith(_url(couple_plan.couple_case))
        assert f'id="step-{todo.url.rsplit("#step-", 1)[1]}"' in plan_html
    quinn = [t.url for t in _step_todos(couple_plan.partner_b)]
    assert any(str(couple_plan.b_step.public_id) in url for url in quinn)
    assert not any(str(late.public_id) in url or str(dated.public_id) in url for url in quinn)


def test_a_step_leaves_things_to_do_once_done_or_its_goal_removed(couple_plan):
    a = couple_plan.user("partner_a")
    own = action_step_add(actor=a, item=couple_plan.a_own.item, text="Pat's step")
    action_step_complete(actor=a, step=couple_plan.joint_step)
    assert [t.url.rsplit("#step-", 1)[1] for t in _step_todos(couple_plan.partner_a)] == [str(own.public_id)]
    plan_item_remove(actor=a, revision=couple_plan.a_own)
    assert _step_todos(couple_plan.partner_a) == []
    # The joint step, once done by Pat, is done for Quinn too.
    assert [t.url.rsplit("#step-", 1)[1] for t in _step_todos(couple_plan.partner_b)] == [str(couple_plan.b_step.public_id)]


def test_home_page_keeps_its_query_budget_with_steps(couple_plan, client_as):
    browser = client_as("partner_a")
    browser.get(reverse("portal:home"))
    with CaptureQueriesContext(connection) as before:
        browser.get(reverse("portal:home"))
    for n in range(4):
        action_step_add(actor=couple_plan.user("partner_a"), item=couple_plan.a_own.item, text=f"Step {n}")
    with CaptureQueriesContext(connection) as after:
        html = browser.get(reverse("portal:home")).content.decode()
    assert len(after) == len(before)
    assert html.count("Your plan: a step to take") == 4


# --- Adding steps ---------------------------------------------------------------------------------------


def _add_step(browser, case, revision, text, **extra):
    return browser.post(_url(case), {"action": "add_step", "item": str(revision.public_id), "text": text, **extra})


def test_partner_adds_a_step_for_herself_with_a_due_date(couple_plan, client_as):
    due = timezone.localdate(timezone=ZoneInfo(couple_plan.partner_a.time_zone)) + datetime.timedelta(days=5)
    browser = client_as("partner_a")
    response = _add_step(
        browser, couple_plan.couple_case, couple_plan.joint, " Write down one worry ", due_on=due.isoformat(), **{"for": "me"}
    )
    assert response.status_code == 303
    step = ActionStep.objects.order_by("-id").first()
    assert (step.text, step.client, step.due_on, step.created_by) == (
        "Write down one worry",
        couple_plan.partner_a,
        due,
        couple_plan.user("partner_a"),
    )
    html = browser.get(_url(couple_plan.couple_case)).content.decode()
    assert "Write down one worry" in html
    assert "Write down one worry" not in client_as("partner_b").get(_url(couple_plan.couple_case)).content.decode()


def test_partner_adds_a_step_for_both_on_a_joint_goal_and_her_own_goal_keeps_it_hers(couple_plan, client_as):
    browser = client_as("partner_b")
    assert _add_step(browser, couple_plan.couple_case, couple_plan.joint, "Walk together", **{"for": "both"}).status_code == 303
    assert ActionStep.objects.order_by("-id").first().client is None
    # "both" on her own goal: the step is hers, whatever the form said.
    assert _add_step(browser, couple_plan.couple_case, couple_plan.b_own, "Read a chapter", **{"for": "both"}).status_code == 303
    assert ActionStep.objects.order_by("-id").first().client == couple_plan.partner_b
    assert "Read a chapter" in client_as("partner_b").get(_url(couple_plan.couple_case)).content.decode()


def test_individual_client_adds_a_step_without_a_whom_choice(world, client_as):
    goal = plan_propose_goal(actor=world.user("therapist_a"), case=world.individual_case, words="Walk daily")
    browser = client_as("client")
    html = browser.get(_url(world.individual_case)).content.decode()
    assert 'name="for"' not in html
    assert f'for="step-text-{goal.public_id}"' in html
    assert _add_step(browser, world.individual_case, goal, "Walk to the shop").status_code == 303
    assert ActionStep.objects.get().client == world.client


@pytest.mark.parametrize(
    ("text", "extra", "message"),
    [
        ("   ", {}, "The step cannot be empty."),
        ("x" * 501, {}, "at most 500 characters"),
        ("A step", {"due_on": "next week"}, "The due date is not a date."),
        ("A step", {"due_on": "2001-01-01"}, "That day has passed."),
        ("A step", {"for": "quinn"}, "Something went wrong with this form."),
    ],
)
def test_bad_step_is_refused_keeps_the_text_and_changes_nothing(couple_plan, client_as, text, extra, message):
    before = ActionStep.objects.count()
    response = _add_step(client_as("partner_a"), couple_plan.couple_case, couple_plan.joint, text, **extra)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Nothing was changed" in html
    if text.strip():
        assert f">{text}</textarea>" in html
    assert ActionStep.objects.count() == before


def test_no_step_on_an_approach_the_other_partners_goal_or_a_tampered_id(couple_plan, client_as):
    before = ActionStep.objects.count()
    browser = client_as("partner_a")
    response = _add_step(browser, couple_plan.couple_case, couple_plan.approach, "A step")
    assert response.status_code == 400
    assert "Only goals" in response.content.decode()
    assert _add_step(browser, couple_plan.couple_case, couple_plan.b_own, "A step").status_code == 404
    form = {"action": "add_step", "item": str(uuid.uuid4()), "text": "A step"}
    assert browser.post(_url(couple_plan.couple_case), form).status_code == 404
    assert ActionStep.objects.count() == before


# --- Rewording one's own goal and writing its levels ------------------------------------------------------


def _reword(browser, case, revision, words):
    return browser.post(_url(case), {"action": "reword", "item": str(revision.public_id), "words": words})


def test_reword_form_is_offered_only_on_items_the_client_wrote(couple_plan, client_as):
    html = client_as("partner_b").get(_url(couple_plan.couple_case)).content.decode()
    # Quinn wrote only her own goal: the joint goal is Pat's words, the approach the therapist's.
    assert html.count('name="action" value="reword"') == 1
    assert f'id="reword-{couple_plan.b_own.public_id}"' in html
    assert html.count('name="action" value="levels"') == 1
    html = client_as("partner_a").get(_url(couple_plan.couple_case)).content.decode()
    assert html.count('name="action" value="reword"') == 2
    assert f'id="reword-{couple_plan.joint.public_id}"' in html
    assert f'for="reword-words-{couple_plan.joint.public_id}"' in html


def test_author_rewords_her_goal_and_agreement_starts_again(couple_plan, client_as):
    plan_agree_item(actor=couple_plan.user("partner_b"), revision=couple_plan.joint, choice="agree")
    browser = client_as("partner_a")
    assert _reword(browser, couple_plan.couple_case, couple_plan.joint, "Talk calmly about money").status_code == 303
    revision = ItemRevision.objects.filter(item=couple_plan.joint.item).order_by("-number").first()
    assert (revision.client_words, revision.written_by) == ("Talk calmly about money", couple_plan.user("partner_a"))
    # The therapist's framing stays beside the new words.
    assert revision.therapist_framing == "Conflict around finances"
    html = client_as("partner_b").get(_url(couple_plan.couple_case)).content.decode()
    assert "Talk calmly about money" in html
    assert "Waiting for your answer" in html


def test_someone_elses_words_cannot_be_reworded(couple_plan, client_as):
    before = _snapshot()
    response = _reword(client_as("partner_b"), couple_plan.couple_case, couple_plan.joint, "Quinn's version")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Only the person who wrote these words may change them" in html
    assert "Nothing was changed" in html
    assert _reword(client_as("partner_a"), couple_plan.couple_case, couple_plan.b_own, "Pat's version").status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize(("words", "message"), [("  ", "The words cannot be empty."), ("y" * 2001, "at most 2000 characters")])
def test_bad_rewording_is_refused_and_keeps_the_typed_words(couple_plan, client_as, words, message):
    before = _snapshot()
    response = _reword(client_as("partner_a"), couple_plan.couple_case, couple_plan.a_own, words)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f">{words}</textarea>" in html
    assert _snapshot() == before


def test_rewording_a_superseded_wording_or_unchanged_words_is_refused(couple_plan, client_as):
    browser = client_as("partner_a")
    old = couple_plan.a_own
    assert _reword(browser, couple_plan.couple_case, old, "Pat's private goal, sharper").status_code == 303
    before = _snapshot()
    response = _reword(browser, couple_plan.couple_case, old, "Another wording")
    assert response.status_code == 400
    assert "This item has changed since you opened it" in response.content.decode()
    current = ItemRevision.objects.filter(item=old.item).order_by("-number").first()
    response = _reword(browser, couple_plan.couple_case, current, "Pat's private goal, sharper")
    assert response.status_code == 400
    assert "Nothing was changed." in response.content.decode()
    assert _snapshot() == before


LEVELS = {"-2": "No talks", "-1": "One tense talk", "0": "One calm talk a week", "1": "Two calm talks", "2": "We plan together"}


def _levels(browser, case, revision, levels):
    return browser.post(_url(case), {"action": "levels", "item": str(revision.public_id), **{f"level_{k}": v for k, v in levels.items()}})


def test_author_writes_and_changes_her_goals_levels(couple_plan, client_as):
    browser = client_as("partner_a")
    assert _levels(browser, couple_plan.couple_case, couple_plan.a_own, LEVELS).status_code == 303
    revision = ItemRevision.objects.filter(item=couple_plan.a_own.item).order_by("-number").first()
    assert revision.gas_levels == LEVELS
    html = browser.get(_url(couple_plan.couple_case)).content.decode()
    assert "(what we expect): One calm talk a week" in html
    assert 'value="One calm talk a week"' in html
    changed = {**LEVELS, "0": "Two calm talks a week"}
    assert _levels(browser, couple_plan.couple_case, revision, changed).status_code == 303
    assert ItemRevision.objects.filter(item=couple_plan.a_own.item).order_by("-number").first().gas_levels == changed


def test_bad_levels_are_refused_and_keep_what_was_typed(couple_plan, client_as):
    before = _snapshot()
    browser = client_as("partner_a")
    response = _levels(browser, couple_plan.couple_case, couple_plan.a_own, {**LEVELS, "0": " "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Level 0, the expected outcome, needs a description." in html
    assert 'value="We plan together"' in html
    response = _levels(browser, couple_plan.couple_case, couple_plan.a_own, {**LEVELS, "1": "z" * 501})
    assert response.status_code == 400
    assert "at most 500 characters" in response.content.decode()
    # Someone else's goal (Pat's words, written for both; Quinn did not write them).
    response = _levels(client_as("partner_b"), couple_plan.couple_case, couple_plan.joint, LEVELS)
    assert response.status_code == 400
    assert "only they may change them" in response.content.decode()
    # An approach has no levels.
    plan_add_approach(actor=couple_plan.user("partner_a"), case=couple_plan.couple_case, words="Pat's way of working")
    response = _levels(browser, couple_plan.couple_case, _newest_revision(), LEVELS)
    assert response.status_code == 400
    assert "Only goals have levels." in response.content.decode()
    assert _levels(browser, couple_plan.couple_case, couple_plan.b_own, LEVELS).status_code == 404
    assert _snapshot()[:2] == (before[0] + 1, before[1] + 1)  # only the approach added above


# --- History ---------------------------------------------------------------------------------------------


def _history(case) -> str:
    return reverse("portal:case_plan_history", kwargs={"case_id": case.public_id})


def _change(case, number) -> str:
    return reverse("portal:case_plan_version", kwargs={"case_id": case.public_id, "number": number})


def test_history_lists_joint_and_own_changes_never_the_other_partners(couple_plan, client_as):
    # Versions: 1 joint goal (Pat), 2 its framing, 3 Pat's own goal, 4 Quinn's own goal, 5 the approach.
    html = client_as("partner_a").get(_history(couple_plan.couple_case)).content.decode()
    assert html.count("<tr>") == 1 + 4
    for n in range(1, 5):
        assert f'href="{_change(couple_plan.couple_case, n)}"' in html
    assert _change(couple_plan.couple_case, 5) not in html
    assert "Quinn Partner" not in html
    assert html.count(">You<") == 2
    assert "Goal changed: therapist framing" in html
    # Quinn's list is her own: change 3 is her goal, and Pat's own goal is not in it.
    html = client_as("partner_b").get(_history(couple_plan.couple_case)).content.decode()
    assert html.count("<tr>") == 1 + 4
    assert html.count(">You<") == 1
    assert client_as("partner_b").get(_change(couple_plan.couple_case, 3)).content.decode().count("Quinn&#x27;s private goal") >= 1


def test_plan_page_links_the_history_and_dates_only_changes_the_client_may_see(couple_plan, client_as):
    html = client_as("partner_a").get(_url(couple_plan.couple_case)).content.decode()
    assert f'href="{_history(couple_plan.couple_case)}"' in html
    assert "(4 changes)" in html


def test_an_earlier_change_shows_the_plan_as_it_stood(couple_plan, client_as):
    plan_item_revise(actor=couple_plan.user("partner_a"), revision=couple_plan.joint, words="Talk calmly about money")
    browser = client_as("partner_a")
    first = browser.get(_change(couple_plan.couple_case, 1))
    assert first.status_code == 200
    html = first.content.decode()
    assert html.count("<h1") == 1
    assert "Argue less about money" in html
    assert "Talk calmly about money" not in html
    assert "Conflict around finances" not in html
    assert "Weekly sessions" not in html
    assert "it has changed since" in html
    assert "<form" not in html.split("<main", 1)[1]
    latest = browser.get(_change(couple_plan.couple_case, 5)).content.decode()
    assert "Talk calmly about money" in latest
    assert "This is the plan as it stands now." in latest
    assert "Quinn&#x27;s private goal" not in latest


def test_an_earlier_change_is_read_against_the_readers_record_only(couple_plan, client_as):
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    client_as("partner_b").get(_change(couple_plan.couple_case, 2))
    views = AuditEvent.objects.filter(id__gt=mark, action=Action.VIEW, object_type="plans.plan")
    assert [str(e.client_id) for e in views] == [str(couple_plan.partner_b.public_id)]


@pytest.mark.parametrize("number", [0, 5, 99])
def test_a_change_the_client_may_not_see_or_that_does_not_exist_is_404(couple_plan, client_as, number):
    assert client_as("partner_a").get(_change(couple_plan.couple_case, number)).status_code == 404


def test_history_of_an_empty_plan(world, client_as):
    response = client_as("client").get(_history(world.individual_case))
    assert response.status_code == 200
    assert "No changes yet" in response.content.decode()
    assert client_as("client").get(_change(world.individual_case, 1)).status_code == 404


def test_every_date_on_the_plan_page_is_in_the_clients_time_zone(couple_plan, client_as):
    # 12:00 UTC on 3 March is already 4 March at UTC+14.
    world = couple_plan
    noon = datetime.datetime(2026, 3, 3, 12, 0, tzinfo=datetime.UTC)
    pat = world.partner_a
    pat.time_zone = "Pacific/Kiritimati"
    pat.save()
    therapist_rating = goal_rate(actor=world.user("therapist_a"), item=world.joint.item, level=1)
    own_rating = goal_rate(actor=world.user("partner_a"), item=world.joint.item, level=0)
    GoalRating.objects.filter(pk__in=[therapist_rating.pk, own_rating.pk]).update(rated_at=noon)
    ActionStep.objects.filter(pk=world.joint_step.pk).update(done_at=noon)
    html = client_as("partner_a").get(_url(world.couple_case)).content.decode()
    assert "Your last rating: 0 on 4 March 2026" in html
    assert "Your therapist's last rating: 1 on 4 March 2026" in html
    assert "Done 4 March 2026" in html
    assert "3 March 2026" not in html
