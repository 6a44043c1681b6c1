"""A partner's plan page in Chromium: she proposes a goal in her words, her partner wants to talk about it."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from rapport.plans.models import Agreement
from rapport.plans.services import plan_add_approach
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
