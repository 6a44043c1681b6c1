"""A couple in Chromium, each partner a person of their own.

The therapist invites both partners; each sets up an account from their own email and signs the
consent form; Ana fills in her intake and withdraws one item; Ben, on a phone without JavaScript,
cannot reach Ana's intake by any path; Ana sees in "Who opened my record" that the therapist
read it, and does not see Ben's visits to their joint case.
"""

from __future__ import annotations

import re
import time as wall
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from rapport.consents.selectors import consent_state
from rapport.consents.services import consent_defaults_create
from tests.browser.conftest import Session
from tests.browser.test_client_portal import PHONE
from tests.newcomers import NEW_PASSWORD, add_newcomers
from tests.personas import World
from tests.smtp_capture import SmtpCapture

THERAPIST_A = "therapist.a@harbour.example"
ANA_WORDS = "Fictional: since the move we talk past each other, and I miss how we used to laugh."
SUPERVISION = "My therapist may discuss my therapy with their clinical supervisor"


def _link_for(smtp_capture: SmtpCapture, address: str, base_url: str) -> str:
    deadline = wall.monotonic() + 10
    while not smtp_capture.to(address) and wall.monotonic() < deadline:
        wall.sleep(0.1)
    link = smtp_capture.link(smtp_capture.only(to=address), containing="/portal/welcome/")
    assert link.startswith(base_url)
    return link[len(base_url) :]


def _accept(session: Session, path: str) -> None:
    page = session.page
    session.goto(path)
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/portal/")
    session.check()


def _sign(session: Session, title: str, typed_name: str, *, supervision: bool) -> None:
    page = session.page
    page.get_by_role("region", name="Things to do").get_by_role("link", name=f"Read and sign: {title}").click()
    page.wait_for_url(re.compile(r"/portal/consents/[0-9a-f-]+/sign/$"))
    session.check()
    page.get_by_label("I agree to take part in therapy").check()
    if supervision:
        page.get_by_label(SUPERVISION).check()
    page.get_by_label("Type your full name to sign").fill(typed_name)
    page.get_by_role("button", name="Sign").click()
    page.wait_for_url("**/portal/consents/")
    session.check()
    expect(page.get_by_role("status")).to_contain_text(f"Signed: {title}")


def test_a_couple_each_sign_and_stay_apart(
    new_session: Callable[..., Session], world: World, settings: Any, live_server: Any, smtp_capture: SmtpCapture
) -> None:
    settings.SITE_URL = live_server.url
    newcomers = add_newcomers(world)
    title = consent_defaults_create(actor=None, practice=world.practice).document.title
    case_path = f"/workspace/cases/{newcomers.couple.public_id}/"
    ana_intake_path = f"{case_path}clients/{newcomers.ana.public_id}/intake/"

    # The therapist invites both partners from the couple's case page.
    therapist = new_session()
    therapist.sign_in(THERAPIST_A, second_factor=True)
    therapist.goto(case_path)
    for name in ("Ana Arrival", "Ben Arrival"):
        therapist.page.get_by_role("region", name="Portal and intake").get_by_role(
            "button", name=f"Invite to the portal for {name}"
        ).click()
        therapist.page.wait_for_url(re.compile(re.escape(case_path)))
        expect(therapist.page.get_by_role("status")).to_contain_text(f"Invitation sent to {name}")
    therapist.check()

    # Each partner sets up an account from their own email: Ana on a laptop, Ben on a phone without JavaScript.
    ana = new_session()
    ben = new_session(javascript=False, **PHONE)
    _accept(ana, _link_for(smtp_capture, "ana@mail.example", live_server.url))
    _accept(ben, _link_for(smtp_capture, "ben@mail.example", live_server.url))

    # Each signs for themselves; Ana agrees to supervision, Ben does not.
    _sign(ana, title, "Ana Arrival", supervision=True)
    _sign(ben, title, "Ben Arrival", supervision=False)
    assert consent_state(newcomers.ana)["supervision"] is True
    assert consent_state(newcomers.ben)["supervision"] is False

    # Ana writes her intake, in her own words.
    ana.goto("/portal/intake/")
    ana.page.get_by_role("textbox", name="What brings you to therapy").fill(ANA_WORDS)
    ana.page.get_by_role("button", name="Save my answers").click()
    ana.page.wait_for_url("**/portal/")
    expect(ana.page.get_by_role("status")).to_contain_text("Your answers are saved")

    # Ana changes her mind about supervision: from now on, and only for her.
    ana.goto("/portal/consents/")
    ana.page.get_by_role("link", name="Withdraw this consent: My therapist may discuss my therapy").click()
    ana.page.wait_for_url("**/portal/consents/items/supervision/withdraw/")
    ana.check()
    ana.page.get_by_role("button", name="Withdraw this consent").click()
    ana.page.wait_for_url("**/portal/consents/")
    expect(ana.page.get_by_role("status")).to_contain_text("Withdrawn, from now on")
    expect(ana.page.get_by_role("region", name="Every choice you made")).to_contain_text("withdrew consent")
    assert consent_state(newcomers.ana)["supervision"] is False
    assert consent_state(newcomers.ben)["treatment"] is True

    # Ben: his own intake page is his own, empty; the staff path to Ana's is closed; nothing of hers shows.
    ben.goto("/portal/intake/")
    expect(ben.page.get_by_role("textbox", name="What brings you to therapy")).to_have_value("")
    ben.goto(ana_intake_path, status=403)
    for path in ("/portal/consents/", f"/portal/cases/{newcomers.couple.public_id}/"):
        ben.goto(path)
        assert ANA_WORDS not in ben.page.content()
    ben.goto("/portal/record-access/")
    assert "Ana Arrival" not in ben.page.get_by_role("main").inner_text()

    # The therapist reads Ana's intake; Ana sees that, and not Ben's visit to their joint case.
    therapist.goto(ana_intake_path)
    expect(therapist.page.get_by_role("main")).to_contain_text(ANA_WORDS)
    ana.goto("/portal/record-access/")
    access = ana.page.get_by_role("main")
    expect(access.get_by_role("listitem").filter(has_text="Theo Treating").filter(has_text="opened your intake form").first).to_be_visible()
    expect(access).not_to_contain_text("Ben Arrival")
