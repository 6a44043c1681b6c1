"""The therapist's calendar in Chromium: the week, a session moved with a message, a block, the keyboard.

On the real clock: therapist A works every day, and Cora's session is three days ahead at 10:00
Toronto time, so the assertions name no particular date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from playwright.sync_api import Page, expect

from rapport.practice.models import Service
from rapport.scheduling.models import Appointment, TimeBlock, WorkingHours
from rapport.scheduling.services import appointment_book
from tests.browser.conftest import Session
from tests.personas import World
from tests.smtp_capture import SmtpCapture, smtp_capture  # noqa: F401  (the fixture)

THERAPIST_A = "therapist.a@harbour.example"
TORONTO = ZoneInfo("America/Toronto")
MESSAGE = "Fictional: a training day came up, sorry. Does the afternoon suit you?"


def _cora_in_three_days(world: World) -> Appointment:
    for weekday in range(7):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))
    day = (timezone.now().astimezone(TORONTO) + timedelta(days=3)).date()
    return appointment_book(
        actor=None,
        therapist=world.therapist_a,
        service=Service.objects.get(practice=world.practice, kind="individual"),
        start=datetime.combine(day, time(10), tzinfo=TORONTO),
        case=world.individual_case,
    )


def _focused_text(page: Page) -> str:
    return str(page.evaluate("document.activeElement ? document.activeElement.innerText || '' : ''")).strip()


def _show_week_of(session: Session, day: date) -> None:
    page = session.page
    page.get_by_label("Go to date").fill(day.isoformat())
    page.get_by_label("View").select_option("week")
    page.get_by_role("button", name="Show", exact=True).click()
    page.wait_for_url(re.compile(rf"date={day.isoformat()}"))
    session.check()


def test_therapist_moves_a_session_with_a_message_and_blocks_time(session: Session, world: World, smtp_capture: SmtpCapture) -> None:  # noqa: F811
    appointment = _cora_in_three_days(world)
    day = appointment.start.astimezone(TORONTO).date()
    page = session.page
    session.sign_in(THERAPIST_A, second_factor=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendar").click()
    page.wait_for_url("**/workspace/calendar/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendar")
    _show_week_of(session, day)
    calendar = page.get_by_role("table")
    expect(calendar.get_by_role("columnheader")).to_have_count(8)
    expect(calendar.get_by_role("rowheader", name="10:00")).to_be_visible()

    calendar.get_by_role("link", name=re.compile(r"10:00\u201310:50 Cora Client")).click()
    page.wait_for_url(f"**/workspace/appointments/{appointment.public_id}/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Individual session with Cora Client")
    expect(page.get_by_text("cora@mail.example")).to_be_visible()

    page.get_by_role("link", name="Move to another time").click()
    page.wait_for_url("**/move/")
    session.check()
    # Another day's times load in place (htmx), then back to the session's own day.
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Day to look at").fill((day + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show free times").click()
    times = page.get_by_role("group", name=re.compile("Free times on"))
    expect(times).to_contain_text((day + timedelta(days=1)).strftime("%A"))
    expect(page).to_have_url(re.compile(rf"date={(day + timedelta(days=1)).isoformat()}"))
    assert page.evaluate("window.stillTheSamePage === true"), "htmx should load the times in place"
    session.check()
    page.get_by_label("Day to look at").fill(day.isoformat())
    page.get_by_role("button", name="Show free times").click()
    expect(times).to_contain_text(day.strftime("%A"))
    session.check()

    times.get_by_role("radio", name="14:00").check()
    page.get_by_role("textbox", name="Message to the client").fill(MESSAGE)
    page.get_by_role("button", name="Move the session and tell Cora Client").click()
    page.wait_for_url(f"**/workspace/appointments/{appointment.public_id}/")
    session.check()
    expect(page.get_by_role("status")).to_contain_text("The session now starts")
    expect(page.get_by_role("status")).to_contain_text("at 14:00")
    moved = Appointment.objects.get(pk=appointment.pk)
    assert moved.start == datetime.combine(day, time(14), tzinfo=TORONTO)
    to_cora = [m for m in smtp_capture.to("cora@mail.example") if MESSAGE in SmtpCapture.text(m)]
    assert len(to_cora) == 1, "Cora should get one email with the therapist's message"

    page.get_by_role("link", name="← Calendar").click()
    page.wait_for_url(re.compile(r"/workspace/calendar/\?date="))
    session.check()
    page.get_by_role("link", name="Block time").click()
    page.wait_for_url(re.compile(r"/workspace/calendar/blocks/new/"))
    session.check()
    expect(page.get_by_label(re.compile(r"^Date:?$"))).to_have_value(day.isoformat())
    page.get_by_label("From").fill("11:00")
    page.get_by_label(re.compile(r"^Until:?$")).fill("12:00")
    page.get_by_label("Label").fill("Supervision")
    page.get_by_role("button", name="Block this time").click()
    page.wait_for_url(re.compile(rf"/workspace/calendar/\?date={day.isoformat()}"))
    session.check()
    expect(page.get_by_role("status")).to_contain_text("The time is blocked")
    expect(page.get_by_role("table").get_by_text("Blocked: Supervision")).to_be_visible()
    block = TimeBlock.objects.get(therapist=world.therapist_a)
    assert (block.start, block.end) == (datetime.combine(day, time(11), tzinfo=TORONTO), datetime.combine(day, time(12), tzinfo=TORONTO))


def test_the_calendar_works_from_the_keyboard_alone(session: Session, world: World) -> None:
    appointment = _cora_in_three_days(world)
    day = appointment.start.astimezone(TORONTO).date()
    page = session.page
    session.sign_in(THERAPIST_A, second_factor=True)
    session.goto(f"/workspace/calendar/?date={day.isoformat()}&view=week")

    # From the top: the skip link, then straight to the calendar's own navigation.
    page.keyboard.press("Tab")
    assert _focused_text(page) == "Skip to content"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("#main$"))
    session.check()
    page.keyboard.press("Tab")
    assert _focused_text(page) == "Previous week"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert _focused_text(page) == "Next week"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"date={(day + timedelta(days=7)).isoformat()}"))
    session.check()

    # A new page: the skip link again, then back a week.
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("#main$"))
    session.check()
    page.keyboard.press("Tab")
    assert _focused_text(page) == "Previous week"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"date={day.isoformat()}"))
    session.check()

    # Tab on until the session's link has the focus, then open it with Enter.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "A" and "Cora Client" in _focused_text(page):
            break
    else:
        raise AssertionError("the session's link never received the keyboard focus")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/workspace/appointments/{appointment.public_id}/")
    session.check()

    # Cancel with a message, from the keyboard: the message box, then the button.
    page.get_by_role("textbox", name="Message to the client").focus()
    page.keyboard.type("Fictional: cancelled from the keyboard.")
    page.keyboard.press("Tab")
    assert _focused_text(page) == "Cancel the session and tell Cora Client"
    page.keyboard.press("Enter")
    # The form posts and comes back to the same address: wait for the answer, not for the URL.
    expect(page.get_by_role("status")).to_contain_text("The session is cancelled")
    session.check()
    expect(page.locator(".status")).to_have_text("Cancelled")
    assert Appointment.objects.get(pk=appointment.pk).status == "cancelled"


def test_a_session_moves_without_javascript(new_session: Callable[..., Session], world: World) -> None:
    appointment = _cora_in_three_days(world)
    day = appointment.start.astimezone(TORONTO).date()
    session = new_session(javascript=False)
    page = session.page
    session.sign_in(THERAPIST_A, second_factor=True)
    session.goto(f"/workspace/appointments/{appointment.public_id}/move/")

    # Without htmx the day form is a plain GET: the whole page comes back with that day's times.
    page.get_by_label("Day to look at").fill((day + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show free times").click()
    page.wait_for_url(re.compile(rf"date={(day + timedelta(days=1)).isoformat()}"))
    session.check()
    page.get_by_role("group", name=re.compile("Free times on")).get_by_role("radio", name="09:00").check()
    page.get_by_role("button", name="Move the session and tell Cora Client").click()
    page.wait_for_url(f"**/workspace/appointments/{appointment.public_id}/")
    session.check()
    expect(page.get_by_role("status")).to_contain_text("at 09:00")
    assert Appointment.objects.get(pk=appointment.pk).start == datetime.combine(day + timedelta(days=1), time(9), tzinfo=TORONTO)
