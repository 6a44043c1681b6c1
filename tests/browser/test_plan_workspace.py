"""The therapist opens a couple's treatment plan from the case page, drafts a goal and rates one (axe on each page)."""

from __future__ import annotations

from playwright.sync_api import expect

from rapport.plans.models import GoalRating, ItemRevision
from rapport.plans.services import plan_agree_item, plan_propose_goal
from tests.browser.conftest import Session
from tests.personas import World


def test_therapist_works_on_the_plan(session: Session, world: World) -> None:
    case = world.couple_case
    joint = plan_propose_goal(actor=world.user("partner_a"), case=case, words="We want to argue less about money")
    plan_agree_item(actor=world.user("partner_b"), revision=joint, choice="talk", comment="Not only money")
    page = session.page
    session.sign_in("therapist.a@harbour.example", second_factor=True)
    session.goto(f"/workspace/cases/{case.public_id}/")
    page.get_by_role("link", name="Treatment plan").click()
    page.wait_for_url(f"**/cases/{case.public_id}/plan/")
    session.check()
    expect(page.get_by_role("heading", name="Needs attention")).to_be_visible()
    expect(page.get_by_text("A difference: someone wants to talk about it or does not agree").first).to_be_visible()

    page.get_by_label("The goal, in the words agreed with the client").fill("Quinn sleeps through the night")
    page.get_by_label("Whose goal").select_option(label="Quinn Partner")
    page.get_by_label("Level 0: as expected (the expected outcome)").fill("Five nights a week")
    for level, text in (("-2", "No night"), ("-1", "One or two nights"), ("+1", "Six nights"), ("+2", "Every night")):
        page.get_by_label(f"Level {level}:").fill(text)
    page.get_by_role("button", name="Add the goal").click()
    page.wait_for_url(f"**/cases/{case.public_id}/plan/")
    session.check()
    expect(page.get_by_role("status")).to_contain_text("Goal added")
    assert [r.client_words for r in ItemRevision.objects.filter(item__owner=world.partner_b)] == ["Quinn sleeps through the night"]

    goal = page.get_by_role("article", name="Joint We want to argue less about money")
    goal.get_by_text("Rate this goal").click()
    goal.get_by_label("+1").check()
    goal.get_by_role("button", name="Save the rating").click()
    page.wait_for_url(f"**/cases/{case.public_id}/plan/")
    session.check()
    assert GoalRating.objects.get(item=joint.item).level == 1

    page.get_by_role("link", name="Version history").click()
    page.wait_for_url(f"**/cases/{case.public_id}/plan/versions/")
    session.check()
    page.get_by_role("link", name="Version 1").click()
    page.wait_for_url(f"**/cases/{case.public_id}/plan/versions/1/")
    session.check()
    expect(page.get_by_role("heading", name="Treatment plan, version 1")).to_be_visible()
