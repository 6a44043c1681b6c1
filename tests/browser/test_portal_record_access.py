"""A client finds their next session and sees who opened their record, on a phone and without JavaScript."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from rapport.clients.selectors import case_read_for_user
from rapport.practice.models import ServiceKind
from tests.browser.conftest import Session
from tests.browser.test_client_portal import PHONE
from tests.personas import World
from tests.sessions import book


def test_client_sees_their_session_and_that_their_therapist_opened_their_record(session: Session, world: World) -> None:
    appointment = book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    case_read_for_user(world.user("therapist_a"), world.individual_case.public_id)
    page = session.page
    session.sign_in("cora@mail.example", second_factor=False)

    assert session.path() == "/portal/"
    sessions = page.get_by_role("region", name="Upcoming sessions")
    expect(sessions.get_by_role("listitem")).to_have_count(1)
    expect(sessions).to_contain_text("Theo Treating")
    expect(sessions).to_contain_text(appointment.service.name)
    expect(sessions.get_by_role("link", name="Move the session on")).to_have_count(1)

    page.get_by_role("link", name="Who opened my record").click()
    page.wait_for_url("**/portal/record-access/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who opened my record")
    newest = page.get_by_role("main").get_by_role("listitem").first
    expect(newest).to_contain_text("Theo Treating (Therapist) opened your therapy record")


def test_record_access_works_on_a_phone_without_javascript(new_session: Callable[..., Session], world: World) -> None:
    case_read_for_user(world.user("therapist_a"), world.couple_case.public_id)
    session = new_session(javascript=False, **PHONE)
    page = session.page
    session.sign_in("pat@mail.example", second_factor=False)
    session.goto("/portal/record-access/")
    expect(page.get_by_role("main")).to_contain_text("Theo Treating (Therapist) opened your therapy record")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
