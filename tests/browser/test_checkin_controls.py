"""The therapist changes a case's check-in plan, and a client pauses and resumes check-ins (axe on each page)."""

from __future__ import annotations

from playwright.sync_api import expect

from rapport.consents.services import consent_defaults_create
from rapport.measures.plan_selectors import plan_current
from rapport.measures.services import check_ins_paused
from tests.browser.conftest import Session
from tests.personas import World


def test_therapist_changes_the_check_in_plan(session: Session, world: World) -> None:
    page = session.page
    session.sign_in("therapist.a@harbour.example", second_factor=True)
    session.goto(f"/workspace/cases/{world.individual_case.public_id}/")
    page.get_by_role("link", name="Check-in plan").click()
    page.wait_for_url(f"**/cases/{world.individual_case.public_id}/measurement-plan/")
    session.check()

    who5 = page.get_by_role("group", name="WHO-5 Well-Being Index (WHO-5)")
    expect(who5.get_by_role("checkbox", name="Before each session")).to_be_disabled()
    gad7 = page.get_by_role("group", name="Generalized Anxiety Disorder-7 (GAD-7)")
    gad7.get_by_role("checkbox", name="Before each session").uncheck()
    page.get_by_role("button", name="Save the plan").click()
    page.wait_for_url(f"**/cases/{world.individual_case.public_id}/measurement-plan/")
    session.check()
    expect(page.get_by_role("status")).to_contain_text("Plan saved")
    assert plan_current(world.individual_case) == {("phq9", "before"), ("alliance", "after")}


def test_client_pauses_and_resumes_check_ins(session: Session, world: World) -> None:
    consent_defaults_create(actor=None, practice=world.practice)
    page = session.page
    session.sign_in("cora@mail.example", second_factor=False)
    session.goto("/portal/consents/")
    page.get_by_role("link", name="Pause or resume check-ins").click()
    page.wait_for_url("**/portal/check-ins/pause/")
    session.check()
    expect(page.get_by_role("main")).to_contain_text("Pausing does not change your care.")

    page.get_by_role("button", name="Pause check-ins").click()
    page.wait_for_url("**/portal/check-ins/pause/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your check-ins are paused")
    assert check_ins_paused(world.client)

    page.get_by_role("button", name="Resume check-ins").click()
    page.wait_for_url("**/portal/check-ins/pause/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pause check-ins")
    assert not check_ins_paused(world.client)
