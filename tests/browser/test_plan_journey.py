"""The whole plan journey of a couple, across the portal and the workspace, in Chromium (axe on every page).

Pat proposes a joint goal in her words, Quinn wants to talk about it, the therapist sees the
difference and adds her framing beside Pat's words, which starts agreement again; both partners
agree; the therapist adds a step for Pat, and Pat checks it off with a reflection that Quinn never sees.
"""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from rapport.plans.models import ActionStep, Agreement, ItemRevision
from tests.browser.conftest import Session
from tests.browser.test_client_portal import PHONE
from tests.personas import World

GOAL = "Fictional: we end an argument before bedtime, even if it is not settled"
FRAMING = "Fictional: repair attempts; a pause is allowed, a door slammed is not"
STEP = "Fictional: say 'pause' once this week and come back within an hour"
REFLECTION = "Fictional: it felt odd, but we did come back to it"


def test_a_joint_goal_from_proposal_to_a_step_done(session: Session, new_session: Callable[..., Session], world: World) -> None:
    case = world.couple_case
    plan_path = f"/portal/cases/{case.public_id}/plan/"
    workspace_plan_path = f"/workspace/cases/{case.public_id}/plan/"

    # Pat proposes a goal for both of them, in her words.
    pat = session
    pat.sign_in("pat@mail.example", second_factor=False)
    pat.goto(plan_path)
    pat.page.get_by_label("Your goal, in your own words").fill(GOAL)
    pat.page.get_by_label("For both of us").check()
    pat.page.get_by_role("button", name="Propose this goal").click()
    expect(pat.page.get_by_role("status")).to_contain_text("Your goal is on the plan, in your words.")
    goal = pat.page.get_by_role("article", name=GOAL)
    expect(goal).to_contain_text("Written by you")
    pat.check()
    goal.get_by_label("I agree").check()
    goal.get_by_role("button", name="Save my answer").click()
    expect(pat.page.get_by_role("article", name=GOAL)).to_contain_text("You: I agree")
    pat.check()

    # Quinn, on a phone, wants to talk about it.
    quinn = new_session(**PHONE)
    quinn.sign_in("quinn@mail.example", second_factor=False)
    quinn.goto(plan_path)
    goal = quinn.page.get_by_role("article", name=GOAL)
    goal.get_by_label("I want to talk about it").check()
    goal.get_by_label("A comment, if you like").fill("Fictional: bedtime is when I am most tired")
    goal.get_by_role("button", name="Save my answer").click()
    expect(quinn.page.get_by_role("article", name=GOAL)).to_contain_text("There is a difference to talk about")
    quinn.check()

    # The therapist sees the difference, with Quinn's comment, and frames the goal beside Pat's words.
    therapist = new_session()
    therapist.sign_in("therapist.a@harbour.example", second_factor=True)
    therapist.goto(workspace_plan_path)
    attention = therapist.page.get_by_role("region", name="Needs attention")
    expect(attention).to_contain_text("we end an argument before bedtime")
    goal = therapist.page.get_by_role("article", name=f"Joint {GOAL}")
    expect(goal).to_contain_text("A difference: the partners answered differently")
    expect(goal).to_contain_text("bedtime is when I am most tired")
    therapist.check()
    goal.get_by_text("Add your framing").click()
    goal.get_by_label("Your framing").fill(FRAMING)
    goal.get_by_role("button", name="Save").click()
    therapist.page.wait_for_url(f"**{workspace_plan_path}")
    goal = therapist.page.get_by_role("article", name=f"Joint {GOAL}")
    expect(goal).to_contain_text(FRAMING)
    expect(goal).to_contain_text("Waiting for Pat Partner and Quinn Partner")
    therapist.check()
    current = ItemRevision.objects.filter(item__plan__case=case).order_by("-number").first()
    assert current is not None
    assert (current.number, current.client_words) == (2, GOAL)

    # The edit started agreement again: each partner agrees to the framed goal.
    for partner in (pat, quinn):
        partner.goto(plan_path)
        goal = partner.page.get_by_role("article", name=GOAL)
        expect(goal).to_contain_text(FRAMING)
        expect(goal).to_contain_text("Waiting for your answer")
        goal.get_by_label("I agree").check()
        goal.get_by_role("button", name="Save my answer").click()
        expect(partner.page.get_by_role("article", name=GOAL)).to_contain_text("You: I agree")
        partner.check()
    expect(quinn.page.get_by_role("article", name=GOAL)).to_contain_text("Fully agreed")
    assert sorted(a.choice for a in Agreement.objects.filter(revision=current)) == ["agree", "agree"]

    # The therapist sees it agreed and adds a step for Pat.
    therapist.goto(workspace_plan_path)
    goal = therapist.page.get_by_role("article", name=f"Joint {GOAL}")
    expect(goal).to_contain_text("Fully agreed")
    goal.get_by_text("Add an action step").click()
    goal.get_by_label("A small step").fill(STEP)
    goal.get_by_label("For:", exact=True).select_option(label="Pat Partner")
    goal.get_by_role("button", name="Add the step").click()
    therapist.page.wait_for_url(f"**{workspace_plan_path}")
    therapist.check()

    # Pat checks it off with a reflection.
    pat.goto(plan_path)
    step = pat.page.get_by_role("listitem").filter(has_text=STEP)
    step.get_by_label("How did it go?").fill(REFLECTION)
    step.get_by_role("button", name="I did this").click()
    step = pat.page.get_by_role("listitem").filter(has_text=STEP)
    expect(step).to_contain_text("Done")
    expect(step).to_contain_text(REFLECTION)
    pat.check()
    done = ActionStep.objects.get(item=current.item)
    assert done.text == STEP
    assert done.done_at is not None
    assert (done.reflection, done.client) == (REFLECTION, world.partner_a)

    # The therapist sees it done, with the reflection; Quinn never sees Pat's reflection.
    therapist.goto(workspace_plan_path)
    expect(therapist.page.get_by_role("article", name=f"Joint {GOAL}")).to_contain_text(REFLECTION)
    quinn.goto(plan_path)
    expect(quinn.page.get_by_role("main")).not_to_contain_text(REFLECTION)
