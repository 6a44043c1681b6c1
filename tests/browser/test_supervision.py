"""A supervisor finds a consenting case of their supervisee, without names, and loses it when consent goes."""

from __future__ import annotations

from playwright.sync_api import expect

from rapport.consents.services import SUPERVISION
from tests.browser.conftest import Session
from tests.consenting import sign_all, withdraw
from tests.personas import World


def test_supervisor_sees_a_consenting_case_without_names_until_consent_is_withdrawn(session: Session, world: World) -> None:
    sign_all(world.client)
    case = world.individual_case
    page = session.page
    session.sign_in("supervisor@harbour.example", second_factor=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Supervision").click()
    page.wait_for_url("**/workspace/supervision/")
    session.check()
    supervisee = page.get_by_role("region", name="Theo Treating")
    expect(supervisee.get_by_role("row")).to_have_count(2)  # the header and one case
    expect(page.get_by_role("main")).not_to_contain_text("Cora")

    supervisee.get_by_role("link", name=case.pseudonym).click()
    page.wait_for_url(f"**/workspace/supervision/cases/{case.public_id}/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(case.pseudonym)
    expect(page.get_by_role("main")).to_contain_text("Consents to supervision since")
    expect(page.get_by_role("main")).not_to_contain_text("Cora")

    withdraw(world.client, SUPERVISION)

    session.goto(f"/workspace/supervision/cases/{case.public_id}/", status=403)
    session.goto("/workspace/supervision/")
    expect(page.get_by_role("main")).not_to_contain_text(case.pseudonym)
