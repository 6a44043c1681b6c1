"""Booking from the public site in Chromium: with htmx, without JavaScript, and a couple's follow-up by email.

These run on the real clock: the therapist works every day, so there is always a free time a day
or two ahead, and the assertions name no particular date.
"""

from __future__ import annotations

import re
import time as wall
from collections.abc import Callable
from datetime import time
from typing import Any

from playwright.sync_api import Page, expect

from rapport.scheduling.models import Appointment, AppointmentStatus, NoticeKind, WorkingHours
from tests.browser.conftest import Session
from tests.personas import World
from tests.smtp_capture import SmtpCapture  # the smtp_capture fixture comes from the root conftest's plugins

LONDON = {"timezone_id": "Europe/London", "locale": "en-GB"}


def _therapist_a_works_every_day(world: World) -> None:
    for weekday in range(7):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))


def _choose_first_free_time(session: Session) -> str:
    """Pick the first offered time; return its label (e.g. "14:00")."""
    region = session.page.locator("#slot-region")
    first = region.get_by_role("radio").first
    expect(first).to_be_attached()
    label = region.locator(".slot label").first.inner_text()
    region.locator(".slot label").first.click()
    expect(first).to_be_checked()
    return label


def _fill_details(page: Page, *, name: str, email: str) -> None:
    page.get_by_role("textbox", name="Your name").fill(name)
    page.get_by_role("textbox", name="Your email address").fill(email)
    page.get_by_role("checkbox", name=re.compile("I have read the privacy notice")).check()


def test_a_visitor_books_a_free_consultation_with_the_times_loading_in_place(
    new_session: Callable[..., Session], world: World, settings: Any
) -> None:
    settings.RAPPORT_VIDEO_BASE_URL = "https://video.harbour.example"
    _therapist_a_works_every_day(world)
    session = new_session(**LONDON)
    page = session.page
    session.goto("/")

    page.get_by_role("link", name="Book: Free 15-minute online consultation").click()
    page.wait_for_url("**/book/*/**")
    # The browser's own zone is filled in and the times reload in it, without leaving the page.
    expect(page.get_by_role("combobox", name="Time zone")).to_have_value("Europe/London")
    region = page.locator("#slot-region")
    expect(region).to_contain_text("shown in Europe/London time")
    expect(region).to_have_attribute("aria-live", "polite")
    session.check()

    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("combobox", name="Therapist").select_option(label="Theo Treating")
    expect(page).to_have_url(re.compile(r"therapist=[0-9a-f-]{36}"))
    expect(region.get_by_role("radio").first).to_be_attached()
    assert page.evaluate("window.stillTheSamePage === true"), "htmx should reload the times in place"
    session.check()

    page.get_by_role("link", name="Later week").click()
    expect(page).to_have_url(re.compile(r"week=\d{4}-\d{2}-\d{2}"))
    assert page.evaluate("window.stillTheSamePage === true")
    expect(page.get_by_role("link", name="Earlier week")).to_be_visible()
    session.check()
    page.get_by_role("link", name="Earlier week").click()
    expect(page.get_by_role("link", name="Earlier week")).to_have_count(0)
    session.check()

    chosen = _choose_first_free_time(session)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/details/**")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your details: Free 15-minute online consultation")
    expect(page.get_by_role("main")).to_contain_text(f"at {chosen} (Europe/London time)")
    expect(page.get_by_role("main")).to_contain_text("Theo Treating")

    _fill_details(page, name="Robin Visitor", email="robin@mail.example")
    page.get_by_role("textbox", name=re.compile("What would you like help with")).fill("Fictional: trouble sleeping.")
    page.get_by_role("button", name="Confirm booking").click()

    page.wait_for_url("**/booking/*/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")
    expect(page.get_by_role("status")).to_contain_text("You're booked.")
    expect(page.get_by_role("main")).to_contain_text(f"at {chosen}")
    expect(page.get_by_role("main")).to_contain_text("(Europe/London time)")
    expect(page.get_by_role("heading", name="Keep this link")).to_be_visible()
    expect(page.locator(".keep-link").get_by_role("link")).to_have_attribute("href", page.url)
    appointment = Appointment.objects.get()
    expect(page.get_by_role("link", name="Join the video call")).to_have_attribute(
        "href", f"https://video.harbour.example/{appointment.video_room}"
    )
    assert appointment.reason == "Fictional: trouble sleeping."
    # A mistyped link says so, and nothing more.
    session.goto("/booking/not-a-real-link/", status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link is not valid")
    assert appointment.case is None
    assert appointment.contact_email == "robin@mail.example"


def test_a_couple_books_and_one_partner_moves_the_session_from_their_own_email(
    new_session: Callable[..., Session],
    world: World,
    settings: Any,
    live_server: Any,
    smtp_capture: SmtpCapture,
) -> None:
    settings.SITE_URL = live_server.url
    _therapist_a_works_every_day(world)
    booker = new_session(**LONDON)
    page = booker.page
    booker.goto("/book/")
    page.get_by_role("link", name="Choose a time for: Couples session").click()
    page.wait_for_url("**/book/*/**")
    expect(page.locator("#slot-region")).to_contain_text("shown in Europe/London time")
    booker.check()
    _choose_first_free_time(booker)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/details/**")
    booker.check()
    _fill_details(page, name="Alex Visitor", email="alex@mail.example")
    page.get_by_role("textbox", name="Your partner's name").fill("Sam Visitor")
    page.get_by_role("textbox", name="Your partner's email address").fill("sam@mail.example")
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url("**/booking/*/")
    booker.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")
    booker_url = page.url

    # Sam's link comes in Sam's own email, from a real SMTP server on loopback.
    deadline = wall.monotonic() + 10
    while not smtp_capture.to("sam@mail.example") and wall.monotonic() < deadline:
        wall.sleep(0.1)
    invitation = smtp_capture.only(to="sam@mail.example")
    sam_link = smtp_capture.link(invitation, containing="/booking/")
    assert sam_link.startswith(live_server.url)
    assert sam_link != booker_url, "each partner has a link of their own"

    partner = new_session(timezone_id="America/Toronto")
    partner.goto(sam_link[len(live_server.url) :])
    partner_page = partner.page
    expect(partner_page.get_by_role("heading", level=1)).to_have_text("Your booking")
    expect(partner_page.get_by_role("main")).to_contain_text("Either partner can move or cancel this couples session.")
    before = Appointment.objects.get().start

    partner_page.get_by_role("link", name="Move to another time").click()
    partner_page.wait_for_url("**/reschedule/")
    partner.check()
    partner_page.get_by_role("link", name="Later week").click()
    expect(partner_page.get_by_role("link", name="Earlier week")).to_be_visible()
    partner.check()
    _choose_first_free_time(partner)
    partner_page.get_by_role("textbox", name="A short message (optional)").fill("Fictional: the later week suits us both.")
    partner_page.get_by_role("button", name="Move to the chosen time").click()
    partner_page.wait_for_url(sam_link)
    partner.check()
    expect(partner_page.get_by_role("status")).to_contain_text("Your session is moved to")

    # The cancel page explains the rule and changes nothing until its button is pressed.
    partner_page.get_by_role("link", name="Cancel this session").click()
    partner_page.wait_for_url("**/cancel/")
    partner.check()
    expect(partner_page.get_by_role("button", name="Cancel this session")).to_be_visible()
    partner_page.get_by_role("link", name="Back to your booking").click()
    partner_page.wait_for_url(sam_link)
    partner.check()

    moved = Appointment.objects.get()
    assert moved.status == AppointmentStatus.BOOKED
    assert moved.start > before
    assert moved.sequence == 1
    # Alex and the therapist are told at once, with Sam's note.
    deadline = wall.monotonic() + 10
    while len(smtp_capture.to("alex@mail.example")) < 2 and wall.monotonic() < deadline:
        wall.sleep(0.1)
    change = smtp_capture.to("alex@mail.example")[-1]
    assert "the later week suits us both" in SmtpCapture.text(change)
    assert moved.notices.filter(kind=NoticeKind.CHANGE, recipient_email=world.therapist_a.user.email).exists()


def test_a_visitor_books_without_javascript(new_session: Callable[..., Session], world: World) -> None:
    _therapist_a_works_every_day(world)
    session = new_session(javascript=False)
    page = session.page
    session.goto("/book/")
    page.get_by_role("link", name="Choose a time for: Individual session").click()
    page.wait_for_url("**/book/*/")
    session.check()
    # Without JavaScript the practice's zone is preselected; the button reloads the times.
    expect(page.get_by_role("combobox", name="Time zone")).to_have_value("America/Toronto")
    page.get_by_role("combobox", name="Time zone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Show times").click()
    page.wait_for_url(re.compile(r"tz=Asia%2FTokyo"))
    session.check()
    expect(page.locator("#slot-region")).to_contain_text("shown in Asia/Tokyo time")

    chosen = _choose_first_free_time(session)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/details/**")
    session.check()
    expect(page.get_by_role("main")).to_contain_text(f"at {chosen} (Asia/Tokyo time)")

    _fill_details(page, name="Jo Visitor", email="jo@mail.example")
    page.get_by_role("button", name="Confirm booking").click()

    page.wait_for_url("**/booking/*/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("You're booked")
    expect(page.get_by_role("main")).to_contain_text(f"at {chosen}")
    expect(page.get_by_role("main")).to_contain_text("(Asia/Tokyo time)")
    assert Appointment.objects.get().case is not None
