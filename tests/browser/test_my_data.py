"""A client asks for a copy of their data, sees it ready, and downloads it; and opens a signature's record."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable

from playwright.sync_api import expect

from rapport.consents.services import consent_defaults_create, consent_sign
from tests.browser.conftest import Session
from tests.browser.test_client_portal import PHONE
from tests.personas import World


def _sign(world: World):  # type: ignore[no-untyped-def]
    version = consent_defaults_create(actor=None, practice=world.practice)
    choices = {item.key: item.key != "supervision" for item in version.items.all()}
    assert world.client.user is not None
    return consent_sign(actor=world.client.user, client=world.client, version=version, typed_name="Cora Client", choices=choices)


def test_client_requests_their_data_and_downloads_the_zip(new_session: Callable[..., Session], world: World) -> None:
    signature = _sign(world)
    session = new_session()
    page = session.page
    session.sign_in("cora@mail.example", second_factor=False)

    page.get_by_role("link", name="My data: download a copy").click()
    page.wait_for_url("**/portal/my-data/")
    session.check()
    expect(page.get_by_role("region", name="What an export holds")).to_contain_text("Your consents")
    expect(page.get_by_role("region", name="Your exports")).to_contain_text("You have not asked for an export yet.")

    page.get_by_role("button", name="Prepare my export").click()
    page.wait_for_url("**/portal/my-data/")
    session.check()
    # Tests run Huey in immediate mode: the build ran when the request committed.
    exports = page.get_by_role("region", name="Your exports")
    expect(exports).to_contain_text("Ready to download")
    with page.expect_download() as info:
        exports.get_by_role("link", name="Download your data").click()
    download = info.value
    assert download.suggested_filename.startswith("my-data-")
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        data = json.loads(archive.read("export.json"))
        pdf = archive.read("export.pdf")
    assert pdf.startswith(b"%PDF")
    signed = data["sections"]["consents"]["data"]["signatures"]
    assert [s["id"] for s in signed] == [str(signature.public_id)]
    assert signed[0]["content_hash"] == signature.content_hash


def test_client_opens_a_signature_and_downloads_its_pdf_on_a_phone_without_javascript(
    new_session: Callable[..., Session], world: World
) -> None:
    signature = _sign(world)
    session = new_session(javascript=False, **PHONE)
    page = session.page
    session.sign_in("cora@mail.example", second_factor=False)
    session.goto("/portal/consents/")

    page.get_by_role("region", name="What you signed").get_by_role(
        "link", name="Consent to therapy, and how we work with you, version 1"
    ).click()
    page.wait_for_url(f"**/portal/consents/signatures/{signature.public_id}/")
    session.check()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    expect(page.get_by_text(signature.content_hash)).to_be_visible()
    expect(page.get_by_role("region", name="Your choices when you signed")).to_contain_text("You did not agree")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download this signature as a PDF").click()
    with open(info.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
