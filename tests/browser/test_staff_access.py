"""Staff access: the practice admin's pages, and the second factor every staff member must have."""

from __future__ import annotations

from playwright.sync_api import expect

from rapport.accounts.models import Role
from rapport.practice.services import staff_user_create
from tests.browser.conftest import Session, totp_code
from tests.personas import PASSWORD, World

ACTIVATE = "/accounts/2fa/totp/activate/"


def test_practice_admin_signs_in_with_a_code_and_reaches_staff_and_audit_trail(session: Session, world: World) -> None:
    page = session.page
    session.sign_in("admin@harbour.example", second_factor=True)
    assert session.path() == "/workspace/"
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Cases")).to_have_count(0)

    nav.get_by_role("link", name="Staff").click()
    page.wait_for_url("**/workspace/staff/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")
    staff = page.get_by_role("table", name="Staff of the practice")
    for name in ("Ada Admin", "Theo Treating", "Bea Bystander", "Sol Supervisor"):
        expect(staff.get_by_role("cell", name=name, exact=True)).to_be_visible()
    expect(staff).not_to_contain_text("Otto Other")

    nav.get_by_role("link", name="Audit trail").click()
    page.wait_for_url("**/workspace/audit/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit trail")
    page.get_by_label("Action").select_option(label="signed in")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/workspace/audit/?action=login")
    session.check()
    events = page.get_by_role("table", name="Audit events, newest first")
    expect(events.get_by_role("row").filter(has_text="Ada Admin").first).to_contain_text("signed in")
    # The audit trail says who did what to whose record, never the clinical text itself.
    assert "Fictional summary for Cora." not in page.content()


def test_staff_member_without_a_second_factor_must_set_one_up_before_the_workspace(session: Session, world: World) -> None:
    staff_user_create(
        actor=None, practice=world.practice, email="nia.new@harbour.example", full_name="Nia New", role=Role.THERAPIST, password=PASSWORD
    )
    page = session.page
    session.sign_in("nia.new@harbour.example", second_factor=False)

    assert session.path() == ACTIVATE, f"signed in, expected the authenticator setup with no second password prompt, got {session.path()}"
    expect(page.get_by_role("status")).to_contain_text("Staff accounts need a second factor")
    for closed in ("/workspace/", "/workspace/cases/"):
        session.goto(closed)
        assert session.path() == ACTIVATE, f"{closed} must stay closed until a second factor is set up"

    secret = page.get_by_label("Authenticator secret").input_value()
    page.get_by_label("Authenticator code").fill(totp_code(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(lambda url: ACTIVATE not in url)
    session.check()

    session.goto("/workspace/")
    assert session.path() == "/workspace/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Good to see you, Nia New")
