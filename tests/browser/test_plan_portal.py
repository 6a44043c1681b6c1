"""A partner's plan page in Chromium: she proposes a goal in her words, her partner wants to talk about it;
she adds a step, rewords her goal, writes its levels and reads the plan's history."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.utils import timezone
from playwright.sync_api import expect

from rapport.plans.models import ActionStep, Agreement
from rapport.plans.services import plan_add_approach, plan_propose_goal
from tests.browser.conftest import Session
from tests.browser.test_client_portal import PHONE
from tests.personas import World

GOAL = "Fictional: we plan one calm talk about money each week"


def test_partners_propose_and_answer_on_the_plan(session: Session, new_session: Callable[..., Session], world: World) -> None:
    plan_add_approach(actor=world.user("therapist_a"), case=world.couple_case, words="Fortnightly sessions of 60 minutes")
    page = session.page
    session.sign_in("pat@mail.example", second_factor=False)
    session.check()
    expect(page.get_by_role("region", name="Things to do")).to_contain_text("Your plan: 1 item waiting for your answer")
    page.get_by_role("link", name="Our plan for couple therapy").click()
    page.wait_for_url("**/plan/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Our plan")
    expect(page.get_by_role("main")).to_contain_text("Fortnightly sessions of 60 minutes")

    page.get_by_label("Your goal, in your own words").fill(GOAL)
    page.get_by_label("For both of us").check()
    page.get_by_role("button", name="Propose this goal").click()
    expect(page.get_by_role("status")).to_contain_text("Your goal is on the plan, in your words.")
    goal = page.get_by_role("article", name=GOAL)
    expect(goal).to_contain_text("Written by you")
    expect(goal).to_contain_text("Waiting for your answer")
    session.check()

    # Quinn, on a phone without JavaScript, wants to talk about it.
    quinn = new_session(javascript=False, **PHONE)
    quinn.sign_in("quinn@mail.example", second_factor=False)
    quinn.goto(f"/portal/cases/{world.couple_case.public_id}/plan/")
    goal = quinn.page.get_by_role("article", name=GOAL)
    expect(goal).to_contain_text("Written by Pat Partner")
    goal.get_by_label("I want to talk about it").check()
    goal.get_by_label("A comment, if you like").fill("Fictional: weekly feels like a lot")
    goal.get_by_role("button", name="Save my answer").click()
    goal = quinn.page.get_by_role("article", name=GOAL)
    expect(goal).to_contain_text("There is a difference to talk about")
    expect(goal).to_contain_text("You: I want to talk about it")
    quinn.check()
    assert quinn.page.evaluate("document.scrollingElement.scrollWidth") <= 375
    assert Agreement.objects.get().choice == "talk"

    # Pat sees the difference and Quinn's answer, not Quinn's comment.
    page.reload()
    goal = page.get_by_role("article", name=GOAL)
    expect(goal).to_contain_text("There is a difference to talk about")
    expect(goal).to_contain_text("Quinn Partner: I want to talk about it")
    expect(goal).not_to_contain_text("weekly feels like a lot")


OWN_GOAL = "Fictional: I go for a walk when I feel tense"


def test_partner_adds_a_step_rewords_her_goal_writes_its_levels_and_reads_the_history(
    session: Session, new_session: Callable[..., Session], world: World
) -> None:
    pat = world.user("partner_a")
    plan_propose_goal(actor=pat, case=world.couple_case, words=GOAL)
    plan_propose_goal(actor=world.user("partner_b"), case=world.couple_case, words=OWN_GOAL, owner=world.partner_b)
    page = session.page
    session.sign_in("pat@mail.example", second_factor=False)
    session.goto(f"/portal/cases/{world.couple_case.public_id}/plan/")

    # A step for both of them, due in three days.
    due = timezone.localdate(timezone=ZoneInfo(world.partner_a.time_zone)) + datetime.timedelta(days=3)
    goal = page.get_by_role("article", name=GOAL)
    goal.get_by_text("Add a step").click()
    session.check()
    goal.get_by_label("A small step you will take before the next session").fill("Fictional: name one thing we spent well on")
    goal.get_by_label("For both of us").check()
    goal.get_by_label("By when? (optional)").fill(due.isoformat())
    goal.get_by_role("button", name="Add this step").click()
    expect(page.get_by_role("status")).to_contain_text("The step is on the plan, for both of you.")
    expect(page.get_by_role("article", name=GOAL)).to_contain_text("Fictional: name one thing we spent well on")
    session.check()

    # It is in Things to do, with when it is due, and the link lands on the step.
    session.goto("/portal/")
    todo = page.get_by_role("region", name="Things to do").get_by_role("link", name="Your plan: a step for both of you, due")
    expect(todo).to_have_count(1)
    todo.click()
    page.wait_for_url("**/plan/#step-*")
    session.check()
    step_id = page.url.rsplit("#", 1)[1]
    expect(page.locator(f"#{step_id}")).to_contain_text("Fictional: name one thing we spent well on")

    # Her own words: she rewords the goal, then describes its levels (0 first left empty: refused).
    goal = page.get_by_role("article", name=GOAL)
    goal.get_by_text("Change my words").click()
    goal.get_by_label("The goal in your words").fill(GOAL + ", and we listen")
    goal.get_by_role("button", name="Save my new wording").click()
    expect(page.get_by_role("status")).to_contain_text("Your new wording is on the plan.")
    session.check()
    goal = page.get_by_role("article", name=GOAL + ", and we listen")
    goal.get_by_text("Describe the levels").click()
    goal.get_by_label("What +2 looks like (much more than expected)").fill("Fictional: we plan the month together")
    goal.get_by_role("button", name="Save my levels").click()
    goal = page.get_by_role("article", name=GOAL + ", and we listen")
    expect(goal.get_by_role("alert")).to_contain_text("Level 0, the expected outcome, needs a description.")
    expect(goal.get_by_label("What +2 looks like (much more than expected)")).to_have_value("Fictional: we plan the month together")
    session.check()
    goal.get_by_label("What 0 looks like (what we expect)").fill("Fictional: one calm talk a week")
    goal.get_by_role("button", name="Save my levels").click()
    expect(page.get_by_role("status")).to_contain_text("Your levels are saved with the goal.")
    session.check()

    # The history: her changes, never Quinn's own goal; the first change shows the first words.
    page.get_by_role("link", name="The plan's history").click()
    page.wait_for_url("**/plan/history/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("The history of our plan")
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(1 + 3)
    expect(page.get_by_role("main")).not_to_contain_text("Quinn")
    page.get_by_role("link", name="Change 1", exact=True).click()
    page.wait_for_url("**/plan/history/1/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Our plan after change 1")
    expect(page.get_by_role("article", name=GOAL)).to_contain_text("Written by you")
    expect(page.get_by_role("main")).not_to_contain_text("and we listen")

    # Quinn, on a phone without JavaScript, adds a step to her own goal; the form opens natively.
    quinn = new_session(javascript=False, **PHONE)
    quinn.sign_in("quinn@mail.example", second_factor=False)
    quinn.goto(f"/portal/cases/{world.couple_case.public_id}/plan/")
    own = quinn.page.get_by_role("article", name=OWN_GOAL)
    own.get_by_text("Add a step").click()
    own.get_by_label("A small step you will take before the next session").fill("Fictional: walk round the block")
    own.get_by_role("button", name="Add this step").click()
    expect(quinn.page.get_by_role("article", name=OWN_GOAL)).to_contain_text("Fictional: walk round the block")
    quinn.check()
    assert quinn.page.evaluate("document.scrollingElement.scrollWidth") <= 375
    quinn.goto(f"/portal/cases/{world.couple_case.public_id}/plan/history/")
    assert quinn.page.evaluate("document.scrollingElement.scrollWidth") <= 375
    steps = ActionStep.objects.order_by("id")
    assert [(s.client_id, s.due_on) for s in steps] == [(None, due), (world.partner_b.pk, None)]
