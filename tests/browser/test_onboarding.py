"""Onboarding in Chromium: the therapist invites a partner, who opens the emailed link, sets a password,
lands on the portal's first steps and fills in the intake form; the therapist then reads it."""

from __future__ import annotations

import re
import time as wall
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from rapport.clients.models import Intake
from rapport.consents.services import consent_defaults_create
from tests.browser.conftest import Session
from tests.newcomers import NEW_PASSWORD, add_newcomers
from tests.personas import World
from tests.smtp_capture import SmtpCapture  # the smtp_capture fixture comes from the root conftest's plugins

THERAPIST_A = "therapist.a@harbour.example"
ANA_WORDS = "Fictional: we keep having the same argument and I would like us to listen to each other."


def _wait_for_mail(smtp_capture: SmtpCapture, address: str) -> None:
    deadline = wall.monotonic() + 10
    while not smtp_capture.to(address) and wall.monotonic() < deadline:
        wall.sleep(0.1)


def test_an_invited_partner_sets_up_their_account_and_fills_in_the_intake(
    new_session: Callable[..., Session], world: World, settings: Any, live_server: Any, smtp_capture: SmtpCapture
) -> None:
    settings.SITE_URL = live_server.url
    newcomers = add_newcomers(world)
    consent = consent_defaults_create(actor=None, practice=world.practice)
    case_path = f"/workspace/cases/{newcomers.couple.public_id}/"

    # The therapist invites Ana from the couple's case page.
    therapist = new_session()
    therapist.sign_in(THERAPIST_A, second_factor=True)
    therapist.goto(case_path)
    portal = therapist.page.get_by_role("region", name="Portal and intake")
    expect(portal).to_contain_text("Not invited to the portal yet.")
    portal.get_by_role("button", name="Invite to the portal for Ana Arrival").click()
    therapist.page.wait_for_url(re.compile(re.escape(case_path)))
    therapist.check()
    expect(therapist.page.get_by_role("status")).to_contain_text("Invitation sent to Ana Arrival at ana@mail.example.")
    expect(portal.get_by_role("button", name="Send a new invitation for Ana Arrival")).to_be_visible()
    expect(portal.get_by_role("button", name="Invite to the portal for Ben Arrival")).to_be_visible()

    # The email reaches a real SMTP server: the practice, the therapist, the link, its expiry.
    _wait_for_mail(smtp_capture, "ana@mail.example")
    message = smtp_capture.only(to="ana@mail.example")
    body = SmtpCapture.text(message)
    assert "Theo Treating at Harbour Therapy invites you" in body
    assert "The link works once and expires on" in body
    link = smtp_capture.link(message, containing="/portal/welcome/")
    assert link.startswith(live_server.url)
    assert not smtp_capture.to("ben@mail.example")

    # Ana opens it, chooses a password, and lands on her portal's first steps.
    ana = new_session()
    ana.goto(link[len(live_server.url) :])
    page = ana.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Harbour Therapy")
    expect(page.get_by_role("main")).to_contain_text("ana@mail.example")
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD + "!")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("alert")).to_contain_text("Your account was not created yet.")
    ana.check()
    page.get_by_label("Choose a password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/portal/")
    ana.check()
    todo = page.get_by_role("region", name="Things to do")
    expect(todo.get_by_role("link", name=f"Read and sign: {consent.document.title}")).to_be_visible()
    expect(todo.get_by_role("link", name="Tell us about yourself (intake form)")).to_be_visible()

    # The intake: a forgotten answer keeps what was typed; then it is saved and leaves the list.
    todo.get_by_role("link", name="Tell us about yourself (intake form)").click()
    page.wait_for_url("**/portal/intake/")
    ana.check()
    page.get_by_label("Phone:", exact=True).fill("+1 555 0142")
    page.get_by_role("textbox", name="What you hope for").fill("Fictional: calmer evenings.")
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was saved yet.")
    ana.check()
    expect(page.get_by_role("textbox", name="What you hope for")).to_have_value("Fictional: calmer evenings.")
    page.get_by_role("textbox", name="What brings you to therapy").fill(ANA_WORDS)
    page.get_by_role("button", name="Save my answers").click()
    page.wait_for_url("**/portal/")
    ana.check()
    expect(page.get_by_role("status")).to_contain_text("Your answers are saved")
    expect(page.get_by_role("region", name="Things to do").get_by_role("link", name="Tell us about yourself (intake form)")).to_have_count(
        0
    )
    assert Intake.objects.get(client=newcomers.ana).what_brings_you == ANA_WORDS

    # The therapist reads it from the case page.
    therapist.goto(case_path)
    expect(therapist.page.get_by_role("region", name="Portal and intake")).to_contain_text("Has a portal account.")
    therapist.page.get_by_role("link", name="Read the intake form of Ana Arrival").click()
    therapist.page.wait_for_url("**/intake/")
    therapist.check()
    expect(therapist.page.get_by_role("heading", level=1)).to_have_text("Intake: Ana Arrival")
    expect(therapist.page.get_by_role("main")).to_contain_text(ANA_WORDS)
