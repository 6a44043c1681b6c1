"""The therapist's calendar pages: what they show, in which zone, and what each form does with good and bad input."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from rapport.audit.models import AuditEvent
from rapport.clients.models import Case, Client
from rapport.practice.models import Service
from rapport.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ConsultationException,
    Notice,
    NoticeKind,
    TimeBlock,
    WorkingHours,
)
from rapport.scheduling.services import appointment_book, appointment_cancel
from tests.past_sessions import appointment_row
from tests.personas import PASSWORD

TORONTO = ZoneInfo("America/Toronto")
REASON = "FICTIONAL-REASON trouble sleeping since a fictional move"
MESSAGE = "Fictional: I am unwell today, sorry. Let us meet next week."


def _service(world, kind: str) -> Service:
    return Service.objects.get(practice=world.practice, kind=kind)


def _weekday_ahead(days: int = 3) -> date:
    """The first Monday-to-Friday date in Toronto at least ``days`` from now (past the 24-hour notice)."""
    day = (timezone.now().astimezone(TORONTO) + timedelta(days=days)).date()
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def _raw(world, kind: str, start: datetime, *, case=None, **fields) -> Appointment:
    """Straight to the table, for times booking would refuse (the past, a weekend night)."""
    return appointment_row(world.therapist_a, _service(world, kind), start, case=case, buffered=False, **fields)


@pytest.fixture
def hours(world):
    for weekday in range(5):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))
    world.therapist_a.time_zone = "America/Toronto"
    world.therapist_a.save(update_fields=["time_zone"])
    world.day = _weekday_ahead()
    return world


@pytest.fixture
def session(hours):
    """Therapist A's session with Cora, three weekdays ahead at 10:00 Toronto time."""
    return appointment_book(
        actor=None,
        therapist=hours.therapist_a,
        service=_service(hours, "individual"),
        start=_at(hours.day, 10),
        case=hours.individual_case,
        reason=REASON,
    )


@pytest.fixture
def consultation(hours):
    return appointment_book(
        actor=None,
        therapist=hours.therapist_a,
        service=_service(hours, "consultation"),
        start=_at(hours.day, 9),
        contact_name="Robin Visitor",
        contact_email="robin@mail.example",
        contact_phone="+1 555 0100",
        reason=REASON,
        time_zone="America/Toronto",
    )


def _detail_url(appointment: Appointment) -> str:
    return reverse("workspace:appointment_detail", kwargs={"appointment_id": appointment.public_id})


def _row(html: str, label: str) -> str:
    """The HTML of the calendar row whose header is ``label`` (e.g. "10:00")."""
    match = re.search(rf'<tr>\s*<th scope="row" class="hour-col">{label}</th>(.*?)</tr>', html, re.S)
    assert match, f"no row {label}"
    return match.group(1)


def _cells(row_html: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", row_html, re.S)


# --- The calendar ---------------------------------------------------------------------------------------------


def test_the_week_of_a_clock_change_shows_sessions_at_the_therapists_local_hours(hours, client_as):
    world = hours
    # Sunday 1 November 2026: Toronto's clocks go back at 02:00 EDT. 10:00 local is 15:00 UTC that day.
    sunday = _raw(world, "individual", datetime(2026, 11, 1, 15, 0, tzinfo=UTC), case=world.individual_case)
    monday = _raw(world, "individual", datetime(2026, 10, 26, 14, 0, tzinfo=UTC), case=world.individual_case)
    twice = [
        _raw(world, "consultation", datetime(2026, 11, 1, 5, 30, tzinfo=UTC), contact_name="Early Bird"),
        _raw(world, "consultation", datetime(2026, 11, 1, 6, 30, tzinfo=UTC), contact_name="Late Owl"),
    ]

    response = client_as("therapist_a").get(reverse("workspace:calendar"), {"date": "2026-10-29", "view": "week"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert re.findall(r'<th scope="col"[^>]*>\s*<span class="day-name">([^<]+)</span>', html) == [
        "Mon 26 Oct",
        "Tue 27 Oct",
        "Wed 28 Oct",
        "Thu 29 Oct",
        "Fri 30 Oct",
        "Sat 31 Oct",
        "Sun 1 Nov",
    ]
    ten = _cells(_row(html, "10:00"))
    assert _detail_url(monday) in ten[0]
    assert _detail_url(sunday) in ten[6]
    assert "Cora Client" in ten[6]
    one = _cells(_row(html, "01:00"))[6]
    assert _detail_url(twice[0]) in one
    assert _detail_url(twice[1]) in one
    assert "01:30 EDT" in one
    assert "01:30 EST" in one
    assert "Clocks go back one hour (EDT to EST)" in html
    assert "Times in America/Toronto" in html


def test_a_cancelled_session_is_struck_through_and_says_so(session, client_as):
    appointment_cancel(actor=None, appointment=session, by_client=True)
    html = client_as("therapist_a").get(reverse("workspace:calendar"), {"date": session.start.date().isoformat()}).content.decode()
    entry = _cells(_row(html, "10:00"))[session.start.astimezone(TORONTO).weekday()]
    assert '<s class="entry-title">Cora Client</s>' in entry
    assert '<span class="entry-status">Cancelled</span>' in entry


def test_the_day_view_has_one_day_and_links_to_the_next(session, client_as):
    day = session.start.astimezone(TORONTO).date()
    response = client_as("therapist_a").get(reverse("workspace:calendar"), {"date": day.isoformat(), "view": "day"})
    html = response.content.decode()
    assert html.count('<th scope="col"') == 2  # the time column and the day
    assert _detail_url(session) in _row(html, "10:00")
    assert f'?date={(day + timedelta(days=1)).isoformat()}&amp;view=day">Next day' in html


@pytest.mark.parametrize("query", [{"date": "31/12/2026"}, {"date": "1800-01-01"}, {"view": "month"}])
def test_an_unreadable_date_shows_this_week_and_says_so(hours, client_as, query):
    response = client_as("therapist_a").get(reverse("workspace:calendar"), query)
    assert response.status_code == 200
    assert b'role="alert">That date could not be read, so this is the current week.' in response.content
    assert response.context["grid"].view == "week"


def test_the_week_page_costs_the_same_queries_with_more_sessions(hours, client_as):
    browser = client_as("therapist_a")
    url = f"{reverse('workspace:calendar')}?date={hours.day.isoformat()}"
    browser.get(url)
    appointment_book(
        actor=None, therapist=hours.therapist_a, service=_service(hours, "couple"), start=_at(hours.day, 14), case=hours.couple_case
    )

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(url).status_code == 200
        return len(queries)

    before = count()
    for hour in (9, 10, 11, 12):
        _raw(hours, "individual", _at(hours.day, hour), case=hours.individual_case)
    _raw(hours, "consultation", _at(hours.day, 16), contact_name="Robin Visitor")
    TimeBlock.objects.create(therapist=hours.therapist_a, start=_at(hours.day, 16), end=_at(hours.day, 17))
    assert count() == before
    assert before <= 15


def test_the_nav_leads_therapists_to_the_calendar_and_admins_to_consultations(world, client_as):
    therapist_nav = client_as("therapist_a").get(reverse("workspace:home")).content.decode()
    admin_nav = client_as("admin").get(reverse("workspace:home")).content.decode()
    assert f'href="{reverse("workspace:calendar")}">Calendar</a>' in therapist_nav
    assert "Consultations</a>" not in therapist_nav
    assert f'href="{reverse("workspace:consultation_exceptions")}">Consultations</a>' in admin_nav
    assert ">Calendar</a>" not in admin_nav


# --- One appointment --------------------------------------------------------------------------------------------


def test_a_consultations_page_shows_its_contact_and_reason_and_audits_the_read(consultation, client_as):
    response = client_as("therapist_a").get(_detail_url(consultation))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in ("Robin Visitor", "robin@mail.example", "+1 555 0100", REASON, "Open a client record and case"):
        assert shown in html
    assert html.count("<h1") == 1
    views = AuditEvent.objects.filter(action="view", object_id=consultation.public_id)
    assert views.count() == 1
    assert "FICTIONAL" not in str(views.get().detail)


def test_a_sessions_page_links_the_case_and_lists_who_is_emailed(session, client_as):
    html = client_as("therapist_a").get(_detail_url(session)).content.decode()
    assert reverse("workspace:case_detail", kwargs={"case_id": session.case.public_id}) in html
    assert "cora@mail.example" in html
    assert "Open a client record" not in html  # not a consultation
    assert (
        AuditEvent.objects.filter(action="view", object_id=session.public_id, client_id=session.case.members.get().client.public_id).count()
        == 1
    )


def test_cancelling_with_a_message_emails_everyone(session, client_as):
    browser = client_as("therapist_a")
    response = browser.post(reverse("workspace:appointment_cancel", kwargs={"appointment_id": session.public_id}), {"message": MESSAGE})

    assert response.status_code == 302
    assert response["Location"] == _detail_url(session)
    session.refresh_from_db()
    assert (session.status, session.late_cancellation) == (AppointmentStatus.CANCELLED, False)
    notices = Notice.objects.filter(appointment=session, kind=NoticeKind.CANCELLATION)
    assert sorted(n.recipient_email for n in notices) == ["cora@mail.example", "therapist.a@harbour.example"]
    assert {n.message for n in notices} == {MESSAGE}
    page = browser.get(_detail_url(session)).content.decode()
    assert 'role="status"' in page
    assert "The session is cancelled. An email with your message is on its way to Cora Client" in page
    assert "it can no longer be moved or cancelled" in page


def test_a_too_long_message_is_refused_and_kept(session, client_as):
    long_message = "Fictional. " * 200
    response = client_as("therapist_a").post(
        reverse("workspace:appointment_cancel", kwargs={"appointment_id": session.public_id}), {"message": long_message}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "at most 2000 characters" in html
    assert long_message.strip() in html  # the text typed is still in the box
    assert Appointment.objects.get(pk=session.pk).status == AppointmentStatus.BOOKED
    assert not Notice.objects.filter(appointment=session, kind=NoticeKind.CANCELLATION).exists()


def test_another_therapist_can_neither_see_nor_cancel_it(session, client_as):
    browser = client_as("therapist_b")
    assert browser.get(_detail_url(session)).status_code == 404
    cancel = browser.post(reverse("workspace:appointment_cancel", kwargs={"appointment_id": session.public_id}), {"message": "x"})
    assert cancel.status_code == 404
    assert Appointment.objects.get(pk=session.pk).status == AppointmentStatus.BOOKED
    assert not AuditEvent.objects.filter(action="view", object_id=session.public_id).exists()


def test_moving_offers_free_times_and_moves_with_a_message(session, client_as):
    browser = client_as("therapist_a")
    url = reverse("workspace:appointment_move", kwargs={"appointment_id": session.public_id})
    page = browser.get(url, {"date": session.start.astimezone(TORONTO).date().isoformat()})
    assert page.status_code == 200
    offered = {start.astimezone(TORONTO).strftime("%H:%M"): value for value, start in page.context["options"]}
    assert "14:00" in offered
    assert "10:00" not in offered
    assert f'value="{offered["14:00"]}"' in page.content.decode()

    response = browser.post(url, {"new_start": offered["14:00"], "message": MESSAGE, "date": session.start.date().isoformat()})

    assert response.status_code == 302
    assert response["Location"] == _detail_url(session)
    moved = Appointment.objects.get(pk=session.pk)
    assert moved.start == _at(session.start.astimezone(TORONTO).date(), 14)
    assert moved.sequence == 1
    notices = Notice.objects.filter(appointment=session, kind=NoticeKind.CHANGE)
    assert sorted(n.recipient_email for n in notices) == ["cora@mail.example", "therapist.a@harbour.example"]
    assert {n.message for n in notices} == {MESSAGE}


def test_moving_onto_a_taken_time_changes_nothing_and_keeps_the_message(session, consultation, client_as):
    url = reverse("workspace:appointment_move", kwargs={"appointment_id": session.public_id})
    response = client_as("therapist_a").post(url, {"new_start": consultation.start.isoformat(), "message": MESSAGE})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "This time was just taken" in html
    assert MESSAGE in html
    unchanged = Appointment.objects.get(pk=session.pk)
    assert (unchanged.start, unchanged.status, unchanged.sequence) == (session.start, AppointmentStatus.BOOKED, 0)
    assert not Notice.objects.filter(appointment=session, kind=NoticeKind.CHANGE).exists()


def test_htmx_gets_only_the_free_times_of_another_day(session, client_as):
    url = reverse("workspace:appointment_move", kwargs={"appointment_id": session.public_id})
    next_day = session.start.astimezone(TORONTO).date() + timedelta(days=1)
    response = client_as("therapist_a").get(url, {"date": next_day.isoformat()}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert not html.lstrip().startswith("<!DOCTYPE")
    assert html.lstrip().startswith('<div id="move-times">')
    assert f'name="date" value="{next_day.isoformat()}"' in html
    assert "HX-Request" in response["Vary"]


def test_a_no_show_can_only_be_marked_once_the_session_has_started(hours, session, client_as):
    browser = client_as("therapist_a")
    refused = browser.post(reverse("workspace:appointment_no_show", kwargs={"appointment_id": session.public_id}))
    assert refused.status_code == 400
    assert b'role="alert">Only a booked session that has started' in refused.content
    assert Appointment.objects.get(pk=session.pk).status == AppointmentStatus.BOOKED

    started = _raw(hours, "individual", timezone.now() - timedelta(minutes=20), case=hours.individual_case)
    page = browser.get(_detail_url(started)).content.decode()
    assert "Mark as a no-show" in page
    assert "Cancel the session" not in page
    response = browser.post(reverse("workspace:appointment_no_show", kwargs={"appointment_id": started.public_id}))
    assert response.status_code == 302
    assert Appointment.objects.get(pk=started.pk).status == AppointmentStatus.NO_SHOW


def test_a_consultation_opens_a_case_only_with_the_persons_agreement(consultation, client_as):
    browser = client_as("therapist_a")
    url = reverse("workspace:consultation_open_case", kwargs={"appointment_id": consultation.public_id})

    refused = browser.post(url, {})
    assert refused.status_code == 400
    assert b"Tick the box to confirm that the person has agreed." in refused.content
    assert not Client.objects.filter(email="robin@mail.example").exists()

    response = browser.post(url, {"agreed": "on"})
    case = Case.objects.get(members__client__email="robin@mail.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace:case_detail", kwargs={"case_id": case.public_id})
    assert Appointment.objects.get(pk=consultation.pk).case == case
    assert "Robin Visitor" in browser.get(response["Location"]).content.decode()


# --- Blocks -------------------------------------------------------------------------------------------------------


def test_a_block_is_added_in_the_therapists_own_time(hours, client_as):
    response = client_as("therapist_a").post(
        reverse("workspace:block_add"), {"day": hours.day.isoformat(), "start_time": "12:00", "end_time": "13:30", "label": "Supervision"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('workspace:calendar')}?date={hours.day.isoformat()}&view=week"
    block = TimeBlock.objects.get()
    assert (block.start, block.end, block.label) == (_at(hours.day, 12), _at(hours.day, 13, 30), "Supervision")
    html = client_as("therapist_a").get(response["Location"]).content.decode()
    assert "Blocked: Supervision" in _row(html, "12:00")


def test_a_block_over_a_session_is_refused_and_the_form_keeps_its_values(session, client_as):
    day = session.start.astimezone(TORONTO).date().isoformat()
    response = client_as("therapist_a").post(
        reverse("workspace:block_add"), {"day": day, "start_time": "09:30", "end_time": "10:30", "label": "Team meeting"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "overlaps a booked session" in html
    assert "10:00 to 10:50" in html
    assert 'value="Team meeting"' in html
    assert 'value="09:30"' in html
    assert f'value="{day}"' in html
    assert not TimeBlock.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"day": "2027-03-14", "start_time": "02:30", "end_time": "04:00"}, "The clocks skip this time"),
        ({"day": "2027-03-15", "start_time": "13:00", "end_time": "12:00"}, "must end after it starts"),
        ({"day": "tomorrow", "start_time": "13:00", "end_time": "14:00"}, "Enter a valid date"),
        ({"day": "2020-01-06", "start_time": "13:00", "end_time": "14:00"}, "already passed"),
    ],
)
def test_bad_blocks_are_refused_with_a_clear_message(hours, client_as, data, message):
    response = client_as("therapist_a").post(reverse("workspace:block_add"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TimeBlock.objects.exists()


def test_a_block_is_removed_by_its_therapist_only(hours, client_as):
    block = TimeBlock.objects.create(therapist=hours.therapist_a, start=_at(hours.day, 12), end=_at(hours.day, 13), label="Lunch")
    url = reverse("workspace:block_remove", kwargs={"block_id": block.public_id})
    assert client_as("therapist_b").post(url).status_code == 404
    assert TimeBlock.objects.filter(pk=block.pk).exists()
    assert client_as("therapist_a").post(url).status_code == 302
    assert not TimeBlock.objects.filter(pk=block.pk).exists()


# --- The private feed ------------------------------------------------------------------------------------------------


def _reauthenticated(browser):
    assert browser.post(reverse("account_reauthenticate"), {"password": PASSWORD}).status_code == 302
    return browser


def _feed_path(html: str) -> str:
    match = re.search(r'id="feed-url"[^>]*value="https?://[^/]+(/workspace/calendar/feed/[^"]+\.ics)"', html)
    assert match, "the new feed address is not on the page"
    return match.group(1)


def test_the_feed_address_is_shown_once_and_stops_working_when_replaced_or_turned_off(session, consultation, client, client_as):
    browser = _reauthenticated(client_as("therapist_a"))
    page = reverse("workspace:calendar_feed")

    issued = browser.post(page, {"action": "issue"})
    assert issued.status_code == 200
    assert issued["Referrer-Policy"] == "no-referrer"
    first = _feed_path(issued.content.decode())
    assert b'id="feed-url"' not in browser.get(page).content  # shown once only

    feed = client.get(first)  # no session: the token is the credential
    assert feed.status_code == 200
    assert feed["Content-Type"] == "text/calendar; charset=utf-8"
    assert (feed["Cache-Control"], feed["Referrer-Policy"]) == ("no-store", "no-referrer")
    summaries = sorted(str(e["SUMMARY"]) for e in Calendar.from_ical(feed.content).walk("VEVENT"))
    assert summaries == ["Consultation", "Individual session (C. C.)"]
    for secret in ("Cora", "Robin", "robin@mail.example", "555 0100", "FICTIONAL"):
        assert secret.encode() not in feed.content

    second = _feed_path(browser.post(page, {"action": "issue"}).content.decode())
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200

    turned_off = browser.post(page, {"action": "revoke"})
    assert turned_off.status_code == 302
    assert client.get(second).status_code == 404


def test_issuing_a_feed_needs_a_fresh_sign_in(hours, client_as):
    response = client_as("therapist_a").post(reverse("workspace:calendar_feed"), {"action": "issue"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert hours.therapist_a.__class__.objects.get(pk=hours.therapist_a.pk).calendar_token_hash == ""


# --- Consultation exceptions --------------------------------------------------------------------------------------------


def test_the_admin_grants_an_exception_and_bad_input_is_kept(world, client_as):
    admin = client_as("admin")
    url = reverse("workspace:consultation_exceptions")
    bad = admin.post(url, {"email": "not an address", "note": "Fictional: moved back"})
    assert bad.status_code == 400
    assert 'role="alert"' in bad.content.decode()
    assert 'value="Fictional: moved back"' in bad.content.decode()
    assert not ConsultationException.objects.exists()

    good = admin.post(url, {"email": "robin@mail.example", "note": "Fictional: moved back"})
    assert good.status_code == 302
    exception = ConsultationException.objects.get()
    assert (exception.email, exception.granted_by) == ("robin@mail.example", world.user("admin"))
    listing = admin.get(url).content.decode()
    assert "robin@mail.example" in listing
    assert "Not used yet" in listing
    assert '<th scope="col">Email address</th>' in listing

    again = admin.post(url, {"email": "ROBIN@mail.example", "note": ""})
    assert again.status_code == 400
    assert b"has not been used yet" in again.content
    assert ConsultationException.objects.count() == 1
