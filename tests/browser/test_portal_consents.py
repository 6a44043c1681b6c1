"""A client reads and signs the practice's consent form, then withdraws one item, on a phone without JavaScript."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from rapport.consents.selectors import consent_state
from rapport.consents.services import consent_defaults_create
from tests.browser.conftest import Session
from tests.browser.test_client_portal import PHONE
from tests.personas import World


def test_client_signs_and_withdraws_one_item_on_a_phone_without_javascript(new_session: Callable[..., Session], world: World) -> None:
    version = consent_defaults_create(actor=None, practice=world.practice)
    title = version.document.title
    session = new_session(javascript=False, **PHONE)
    page = session.page
    session.sign_in("cora@mail.example", second_factor=False)

    page.get_by_role("region", name="Things to do").get_by_role("link", name=f"Read and sign: {title}").click()
    page.wait_for_url(f"**/portal/consents/{version.public_id}/sign/")
    session.check()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    page.get_by_label("I agree to take part in therapy").check()
    page.get_by_label("Send me appointment reminders by email").check()
    page.get_by_label("Type your full name to sign").fill("Cora Client")
    page.get_by_role("button", name="Sign").click()

    page.wait_for_url("**/portal/consents/")
    session.check()
    expect(page.get_by_role("status")).to_contain_text(f"Signed: {title}, version 1")
    assert consent_state(world.client)["email_reminders"] is True
    assert consent_state(world.client)["supervision"] is False

    page.get_by_role("link", name="Withdraw this consent: Send me appointment reminders").click()
    page.wait_for_url("**/portal/consents/items/email_reminders/withdraw/")
    session.check()
    page.get_by_role("button", name="Withdraw this consent").click()

    page.wait_for_url("**/portal/consents/")
    session.check()
    expect(page.get_by_role("status")).to_contain_text("Withdrawn, from now on")
    assert consent_state(world.client)["email_reminders"] is False
    history = page.get_by_role("region", name="Every choice you made")
    expect(history).to_contain_text("withdrew consent: “Send me appointment reminders")
