"""A therapist's day in the workspace: signing in with a second factor, keeping a case summary, reading its audit."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.browser.conftest import Session
from tests.personas import World

THERAPIST_A = "therapist.a@harbour.example"


def _open_individual_case(session: Session, world: World) -> None:
    page = session.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases").click()
    page.wait_for_url("**/workspace/cases/")
    session.check()
    expect(page.get_by_role("link", name="Pat Partner & Quinn Partner")).to_be_visible()
    page.get_by_role("link", name="Cora Client").click()
    page.wait_for_url(f"**/workspace/cases/{world.individual_case.public_id}/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cora Client")
    expect(page.get_by_role("region", name="Working summary")).to_contain_text("Fictional summary for Cora.")


def test_therapist_signs_in_with_a_code_and_edits_a_summary_in_place(session: Session, world: World) -> None:
    page = session.page
    session.sign_in(THERAPIST_A, second_factor=True)

    assert session.path() == "/workspace/"
    caseload = page.get_by_role("region", name="Open cases")
    expect(caseload.get_by_role("link", name="Cora Client")).to_be_visible()
    expect(caseload.get_by_role("link", name="Pat Partner & Quinn Partner")).to_be_visible()

    _open_individual_case(session, world)
    case_url = page.url
    summary = page.get_by_role("region", name="Working summary")

    summary.get_by_role("link", name="Edit summary").click()
    field = summary.get_by_role("textbox", name="Working summary")
    expect(field).to_have_value("Fictional summary for Cora.")
    assert page.url == case_url, "htmx should swap the form in place, not navigate"
    session.check()

    field.fill("Cora wants to work on sleep. Fictional.")
    summary.get_by_role("button", name="Save summary").click()
    expect(summary.get_by_role("link", name="Edit summary")).to_be_visible()
    expect(summary).to_contain_text("Cora wants to work on sleep. Fictional.")
    assert page.url == case_url
    session.check()

    page.reload()
    session.check()
    expect(page.get_by_role("region", name="Working summary")).to_contain_text("Cora wants to work on sleep. Fictional.")
    world.individual_case.refresh_from_db()
    assert world.individual_case.summary == "Cora wants to work on sleep. Fictional."


def test_therapist_edits_a_summary_without_javascript(new_session: Callable[..., Session], world: World) -> None:
    session = new_session(javascript=False)
    page = session.page
    session.sign_in(THERAPIST_A, second_factor=True)
    assert session.path() == "/workspace/"
    _open_individual_case(session, world)
    case_path = session.path()

    page.get_by_role("link", name="Edit summary").click()
    page.wait_for_url("**/summary/?edit=1")
    session.check()
    page.get_by_role("textbox", name="Working summary").fill("Plain form post, no script. Fictional.")
    page.get_by_role("button", name="Save summary").click()

    page.wait_for_url(f"**{case_path}")
    session.check()
    expect(page.get_by_role("status")).to_contain_text("Summary saved.")
    expect(page.get_by_role("region", name="Working summary")).to_contain_text("Plain form post, no script. Fictional.")
    page.reload()
    session.check()
    expect(page.get_by_role("region", name="Working summary")).to_contain_text("Plain form post, no script. Fictional.")

    # The case's audit: the summary just saved, then the case page's own reads after it, newest first.
    page.get_by_role("link", name="Who opened the record").click()
    page.wait_for_url(f"**{case_path}record-access/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who opened the record")
    events = page.get_by_role("region", name="Cora Client").get_by_role("listitem")
    expect(events.first).to_contain_text("Theo Treating (Therapist) opened the therapy record")
    # The world's first summary and the one just saved.
    expect(events.filter(has_text="changed the therapy record: therapist's summary")).to_have_count(2)
