"""Booking emails on the real databases: who gets what, in which zone, with which link, and exactly once."""

from __future__ import annotations

import email
import email.policy
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.mail import EmailMessage as DjangoEmailMessage
from django.db import connections
from django.test import override_settings
from django.urls import resolve
from django.utils import timezone
from icalendar import Calendar, Event

from rapport.practice.models import Practice, Service
from rapport.scheduling import mail as scheduling_mail
from rapport.scheduling.mail import STUCK_AFTER, notices_send_due, notices_stuck
from rapport.scheduling.models import Appointment, Notice, NoticeKind, NoticeState, Participant, WorkingHours
from rapport.scheduling.services import appointment_book, appointment_cancel, appointment_reschedule
from rapport.scheduling.tasks import notices_sweep
from tests.personas import World, build_world
from tests.smtp_capture import SmtpCapture

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TORONTO)  # a Monday morning, well after the DST change
TUESDAY = date(2026, 11, 24)
THURSDAY = date(2026, 11, 26)
SITE_URL = "https://harbour.example"
VIDEO_BASE = "https://video.harbour.example"
REASON = "FICTIONAL-REASON panic attacks since a fictional accident"
SUMMARY = "Fictional summary for Cora."  # what tests.personas writes into the individual case
CRISIS = [{"name": "Harbour Crisis Line", "contact": "1-800-555-0100", "note": "24 hours, free"}]


def _at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


def _prepare(world: World) -> World:
    for weekday in range(5):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))
    world.therapist_a.time_zone = "America/Toronto"
    world.therapist_a.save(update_fields=["time_zone"])
    Practice.objects.filter(pk=world.practice.pk).update(contact_email="hello@harbour.example", crisis_resources=CRISIS)
    world.practice.refresh_from_db()
    # Partner B reads times in London; partner A, like the practice, in Toronto.
    world.partner_b.time_zone = "Europe/London"
    world.partner_b.save(update_fields=["time_zone"])
    return world


@pytest.fixture
def booked(world: World, settings) -> World:
    settings.SITE_URL = SITE_URL
    settings.RAPPORT_VIDEO_BASE_URL = VIDEO_BASE
    return _prepare(world)


def _service(world: World, kind: str) -> Service:
    return Service.objects.get(practice=world.practice, kind=kind)


def _book_couple(world: World, start: datetime | None = None) -> Appointment:
    return appointment_book(
        actor=world.user("therapist_a"),
        therapist=world.therapist_a,
        service=_service(world, "couple"),
        start=start or _at(13),
        case=world.couple_case,
        now=NOW,
    )


def _book_individual(world: World, start: datetime | None = None) -> Appointment:
    return appointment_book(
        actor=world.user("therapist_a"),
        therapist=world.therapist_a,
        service=_service(world, "individual"),
        start=start or _at(10),
        case=world.individual_case,
        now=NOW,
    )


def _book_consultation(world: World, start: datetime | None = None, time_zone: str = "") -> Appointment:
    return appointment_book(
        actor=None,
        therapist=world.therapist_a,
        service=_service(world, "consultation"),
        start=start or _at(9),
        contact_name="Robin Visitor",
        contact_email="robin@mail.example",
        reason=REASON,
        time_zone=time_zone,
        privacy_accepted=True,
        now=NOW,
    )


def _parsed(message: DjangoEmailMessage) -> EmailMessage:
    """The email as a mail server would receive it, read back with the standard library."""
    parsed = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _to(address: str) -> list[EmailMessage]:
    return [_parsed(m) for m in mail.outbox if m.to == [address]]


def _one_to(address: str) -> EmailMessage:
    found = _to(address)
    assert len(found) == 1, f"expected one email to {address}, got {len(found)}"
    return found[0]


def _invite(message: EmailMessage) -> tuple[EmailMessage, Calendar, Event]:
    parts = SmtpCapture.attachments(message, "text/calendar")
    assert len(parts) == 1
    calendar = Calendar.from_ical(parts[0].get_content())
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return parts[0], calendar, events[0]


def _manage_link(message: EmailMessage) -> str:
    return next(link for link in SmtpCapture.links(message) if "/workspace/" not in link and not link.startswith(VIDEO_BASE))


# --- Who gets what ---------------------------------------------------------------------------------


def test_each_partner_gets_their_own_confirmation_and_link_and_the_therapist_a_copy(booked):
    appointment = _book_couple(booked)
    assert notices_send_due(now=NOW) == 3
    participants = {p.email: p for p in Participant.objects.filter(appointment=appointment)}
    pat, quinn = _one_to("pat@mail.example"), _one_to("quinn@mail.example")
    for message, mine, theirs in ((pat, "pat@mail.example", "quinn@mail.example"), (quinn, "quinn@mail.example", "pat@mail.example")):
        link = _manage_link(message)
        assert link.startswith(f"{SITE_URL}/")
        match = resolve(urlsplit(link).path)
        assert (match.view_name, match.kwargs) == ("site:booking_manage", {"token": participants[mine].token})
        assert participants[theirs].token not in message.as_string()
        # The calendar entry carries the same, personal link.
        _, _, event = _invite(message)
        assert str(event["DESCRIPTION"]) == f"Manage this booking: {link}"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Reply-To"] == "hello@harbour.example"
    therapist = _one_to("therapist.a@harbour.example")
    assert therapist["Subject"] == "Confirmed: Couples session (P. P. & Q. P.) on Tue 24 Nov, 13:00 (America/Toronto)"
    match = resolve(urlsplit(SmtpCapture.link(therapist, containing="/workspace/")).path)
    assert (match.view_name, match.kwargs) == ("workspace:appointment_detail", {"appointment_id": appointment.public_id})
    assert all(p.token not in therapist.as_string() for p in participants.values())
    # No other person's full name in the therapist's mailbox: initials, as in the calendar feed.
    assert "Pat Partner" not in therapist.as_string()
    assert set(Notice.objects.filter(kind=NoticeKind.CONFIRMATION).values_list("state", flat=True)) == {NoticeState.SENT}


def test_times_are_shown_in_each_recipients_own_zone(booked):
    _book_couple(booked)
    _book_consultation(booked, start=_at(10, day=THURSDAY), time_zone="Asia/Kolkata")
    notices_send_due(now=NOW)
    pat, quinn = _one_to("pat@mail.example"), _one_to("quinn@mail.example")
    assert pat["Subject"] == "Confirmed: Couples session with Theo Treating on Tue 24 Nov, 13:00 (America/Toronto)"
    assert quinn["Subject"] == "Confirmed: Couples session with Theo Treating on Tue 24 Nov, 18:00 (Europe/London)"
    assert "When: Tuesday 24 November 2026, 18:00 to 19:15 (Europe/London)" in SmtpCapture.text(quinn)
    # A half-hour zone: 10:00 in Toronto (UTC-5) is 20:30 in Kolkata (UTC+5:30).
    robin = _one_to("robin@mail.example")
    assert robin["Subject"] == "Confirmed: Free 15-minute online consultation with Theo Treating on Thu 26 Nov, 20:30 (Asia/Kolkata)"
    therapist_copies = [m["Subject"] for m in _to("therapist.a@harbour.example")]
    assert "Confirmed: Free 15-minute online consultation (R. V.) on Thu 26 Nov, 10:00 (America/Toronto)" in therapist_copies


def test_an_online_session_shows_its_video_link_to_the_participant_and_the_therapist_only(booked):
    appointment = _book_consultation(booked)
    notices_send_due(now=NOW)
    room = f"{VIDEO_BASE}/{appointment.video_room}"
    for address in ("robin@mail.example", "therapist.a@harbour.example"):
        message = _one_to(address)
        assert f"Where: online, {room}" in SmtpCapture.text(message)
        _, _, event = _invite(message)
        assert str(event["LOCATION"]) == room
    in_person = _book_individual(booked, start=_at(11))
    mail.outbox.clear()
    notices_send_due(now=NOW)
    assert "Where: in person, Harbour Therapy" in SmtpCapture.text(_one_to("cora@mail.example"))
    assert in_person.video_room == ""


def test_only_the_clients_confirmation_carries_the_crisis_resources(booked):
    appointment = _book_individual(booked)
    notices_send_due(now=NOW)
    line = "- Harbour Crisis Line: 1-800-555-0100 (24 hours, free)"
    assert line in SmtpCapture.text(_one_to("cora@mail.example"))
    assert "crisis" not in SmtpCapture.text(_one_to("therapist.a@harbour.example")).lower()
    appointment_cancel(actor=booked.user("therapist_a"), appointment=appointment, by_client=False, now=NOW)
    mail.outbox.clear()
    notices_send_due(now=NOW)
    assert "crisis" not in SmtpCapture.text(_one_to("cora@mail.example")).lower()


def test_no_email_carries_the_reason_or_the_case_summary(booked):
    consultation = _book_consultation(booked)
    individual = _book_individual(booked)
    _book_couple(booked)
    appointment_reschedule(
        actor=booked.user("therapist_a"), appointment=individual, new_start=_at(11, day=THURSDAY), by_client=False, now=NOW
    )
    appointment_cancel(actor=None, appointment=consultation, by_client=True, message="Sorry, something came up.", now=NOW)
    for moment in (NOW, _at(11), _at(9, day=THURSDAY)):
        notices_send_due(now=moment)
    kinds = Counter(m.subject.split(":")[0] for m in mail.outbox)
    assert kinds == {"Confirmed": 3, "Changed": 2, "Cancelled": 2, "Reminder": 4}
    for message in mail.outbox:
        raw = message.message().as_string()
        assert REASON not in raw
        assert "panic" not in raw
        assert SUMMARY not in raw


# --- Calendar invites ------------------------------------------------------------------------------


def test_the_invite_keeps_its_uid_and_raises_its_sequence_until_it_is_cancelled(booked):
    appointment = _book_individual(booked)
    notices_send_due(now=NOW)
    part, calendar, event = _invite(_one_to("cora@mail.example"))
    assert part.get_filename() == "invite.ics"
    assert part.get_param("method") == "REQUEST"
    assert str(calendar["METHOD"]) == "REQUEST"
    uid = str(event["UID"])
    assert uid == f"{appointment.public_id}@rapport"
    assert event["SEQUENCE"] == 0

    moved = appointment_reschedule(
        actor=booked.user("therapist_a"), appointment=appointment, new_start=_at(11, day=THURSDAY), by_client=False, now=NOW
    )
    mail.outbox.clear()
    notices_send_due(now=NOW)
    change = _one_to("cora@mail.example")
    assert change["Subject"] == "Changed: Individual session with Theo Treating, now Thu 26 Nov, 11:00 (America/Toronto)"
    _, calendar, event = _invite(change)
    assert (str(calendar["METHOD"]), str(event["UID"]), event["SEQUENCE"]) == ("REQUEST", uid, 1)
    assert event.start == _at(11, day=THURSDAY)

    appointment_cancel(actor=booked.user("therapist_a"), appointment=moved, by_client=False, message="I am unwell, sorry.", now=NOW)
    mail.outbox.clear()
    notices_send_due(now=NOW)
    cancellation = _one_to("cora@mail.example")
    assert cancellation["Subject"] == "Cancelled: Individual session with Theo Treating on Thu 26 Nov, 11:00 (America/Toronto)"
    assert "I am unwell, sorry." in SmtpCapture.text(cancellation)
    part, calendar, event = _invite(cancellation)
    assert part.get_param("method") == "CANCEL"
    assert (str(calendar["METHOD"]), str(event["UID"]), event["SEQUENCE"], str(event["STATUS"])) == ("CANCEL", uid, 2, "CANCELLED")
    assert "I am unwell, sorry." in SmtpCapture.text(_one_to("therapist.a@harbour.example"))


def test_an_unsent_confirmation_is_superseded_by_the_change_that_followed_it(booked):
    appointment = _book_individual(booked)
    appointment_reschedule(actor=None, appointment=appointment, new_start=_at(11), by_client=False, now=NOW)
    notices_send_due(now=NOW)
    subjects = [m["Subject"] for m in _to("cora@mail.example")]
    assert subjects == ["Changed: Individual session with Theo Treating, now Tue 24 Nov, 11:00 (America/Toronto)"]
    assert set(Notice.objects.filter(kind=NoticeKind.CONFIRMATION).values_list("state", flat=True)) == {NoticeState.VOID}


# --- Reminders -------------------------------------------------------------------------------------


def test_reminders_go_out_at_the_practice_offsets_and_never_twice(booked):
    _book_individual(booked, start=_at(10, day=THURSDAY))  # 48 h before: Tuesday 10:00; 2 h before: Thursday 8:00
    assert notices_send_due(now=NOW) == 2  # the confirmations
    mail.outbox.clear()
    assert notices_send_due(now=_at(9, 59)) == 0
    assert notices_send_due(now=_at(10)) == 1
    assert notices_send_due(now=_at(10)) == 0
    reminder = _one_to("cora@mail.example")
    assert reminder["Subject"] == "Reminder: Individual session with Theo Treating on Thu 26 Nov, 10:00 (America/Toronto)"
    assert SmtpCapture.attachments(reminder) == []
    assert "crisis" not in SmtpCapture.text(reminder).lower()
    assert notices_send_due(now=_at(8, day=THURSDAY)) == 1
    assert notices_send_due(now=_at(8, 1, day=THURSDAY)) == 0
    assert len(_to("cora@mail.example")) == 2
    assert _to("therapist.a@harbour.example") == []  # reminders are for the participants


def test_a_practice_chooses_its_own_reminder_offsets(booked):
    Practice.objects.filter(pk=booked.practice.pk).update(reminder_offsets_hours=[24])
    appointment = _book_couple(booked, start=_at(13, day=THURSDAY))
    due = sorted(set(Notice.objects.filter(appointment=appointment, kind=NoticeKind.REMINDER).values_list("due_at", flat=True)))
    assert due == [_at(13, day=date(2026, 11, 25))]
    notices_send_due(now=_at(13, day=date(2026, 11, 25)))
    assert len([m for m in mail.outbox if m.subject.startswith("Reminder:")]) == 2  # one per partner


def test_no_reminder_after_a_cancellation(booked):
    appointment = _book_individual(booked, start=_at(10, day=THURSDAY))
    appointment_cancel(actor=None, appointment=appointment, by_client=True, now=NOW)
    for moment in (NOW, _at(10), _at(8, day=THURSDAY)):
        notices_send_due(now=moment)
    assert [m.subject.split(":")[0] for m in mail.outbox if m.to == ["cora@mail.example"]] == ["Cancelled"]
    assert set(Notice.objects.filter(kind=NoticeKind.REMINDER).values_list("state", flat=True)) == {NoticeState.VOID}


def test_a_reminder_still_pending_when_the_session_was_cancelled_is_voided_not_sent(booked):
    # The cancellation's own transaction voids reminders; this is the sender's second line, for a
    # row that slipped past it (e.g. an appointment changed by other code).
    appointment = _book_individual(booked, start=_at(10, day=THURSDAY))
    notices_send_due(now=NOW)
    Appointment.objects.filter(pk=appointment.pk).update(status="cancelled")
    mail.outbox.clear()
    assert notices_send_due(now=_at(10)) == 0
    assert mail.outbox == []
    assert Notice.objects.get(kind=NoticeKind.REMINDER, due_at=_at(10)).state == NoticeState.VOID


def test_a_moved_session_voids_its_old_reminders_and_plans_new_ones(booked):
    appointment = _book_individual(booked, start=_at(10, day=THURSDAY))
    old = set(Notice.objects.filter(kind=NoticeKind.REMINDER).values_list("pk", flat=True))
    appointment_reschedule(actor=None, appointment=appointment, new_start=_at(14, day=date(2026, 11, 27)), by_client=False, now=_at(9))
    assert set(Notice.objects.filter(pk__in=old).values_list("state", flat=True)) == {NoticeState.VOID}
    new = Notice.objects.filter(kind=NoticeKind.REMINDER, state=NoticeState.PENDING).order_by("due_at")
    assert [n.due_at for n in new] == [_at(14, day=date(2026, 11, 25)), _at(12, day=date(2026, 11, 27))]
    notices_send_due(now=_at(9))
    mail.outbox.clear()
    assert notices_send_due(now=_at(10)) == 0  # when the old 48-hour reminder would have gone
    assert notices_send_due(now=_at(14, day=date(2026, 11, 25))) == 1
    assert _one_to("cora@mail.example")["Subject"] == (
        "Reminder: Individual session with Theo Treating on Fri 27 Nov, 14:00 (America/Toronto)"
    )


def test_a_late_reminder_for_a_session_that_has_started_is_not_sent(booked):
    _book_individual(booked, start=_at(10, day=THURSDAY))
    notices_send_due(now=NOW)
    mail.outbox.clear()
    # The worker was down from Tuesday until after the session.
    assert notices_send_due(now=_at(11, day=THURSDAY)) == 0
    assert set(Notice.objects.filter(kind=NoticeKind.REMINDER).values_list("state", flat=True)) == {NoticeState.VOID}


# --- At most once ----------------------------------------------------------------------------------


def test_a_row_claimed_by_a_worker_that_died_is_never_resent_but_is_reported(booked, caplog):
    _book_couple(booked)
    victim = Notice.objects.get(kind=NoticeKind.CONFIRMATION, recipient_email="pat@mail.example")
    Notice.objects.filter(pk=victim.pk).update(state=NoticeState.CLAIMED, claimed_at=NOW)
    assert notices_send_due(now=NOW) == 2
    assert notices_send_due(now=NOW + timedelta(hours=1)) == 0
    assert _to("pat@mail.example") == []
    assert Notice.objects.get(pk=victim.pk).state == NoticeState.CLAIMED
    assert notices_stuck(NOW + STUCK_AFTER) == 0
    with caplog.at_level(logging.WARNING, logger="rapport.scheduling.mail"):
        assert notices_stuck(NOW + STUCK_AFTER + timedelta(seconds=1)) == 1
    assert "1 appointment email(s) claimed over 15 minutes ago" in caplog.text
    assert "pat@mail.example" not in caplog.text


def test_a_row_another_worker_claimed_first_is_left_alone(booked):
    _book_individual(booked)
    row = Notice.objects.get(kind=NoticeKind.CONFIRMATION, recipient_email="cora@mail.example")
    Notice.objects.filter(pk=row.pk).update(state=NoticeState.CLAIMED, claimed_at=NOW)
    assert scheduling_mail.notice_send(row.pk, now=NOW) is None
    assert mail.outbox == []


def test_a_row_that_cannot_be_rendered_fails_alone(booked, monkeypatch):
    _book_couple(booked)
    real = scheduling_mail.notice_email

    def broken_for_pat(notice: Notice) -> DjangoEmailMessage:
        if notice.recipient_email == "pat@mail.example":
            raise RuntimeError("template bug")
        return real(notice)

    monkeypatch.setattr(scheduling_mail, "notice_email", broken_for_pat)
    assert notices_send_due(now=NOW) == 2
    failed = Notice.objects.get(recipient_email="pat@mail.example", kind=NoticeKind.CONFIRMATION)
    assert (failed.state, failed.error) == (NoticeState.FAILED, "render: RuntimeError")


@pytest.mark.django_db(transaction=True)
def test_racing_workers_send_each_notice_exactly_once(monkeypatch, settings):
    settings.SITE_URL = SITE_URL
    world = _prepare(build_world())
    # Keep the on-commit sender's clock before the rows fall due, so the race below has them all.
    monkeypatch.setattr(timezone, "now", lambda: NOW - timedelta(hours=1))
    _book_couple(world)
    _book_individual(world)
    _book_consultation(world, start=_at(15))
    _book_individual(world, start=_at(10, day=THURSDAY))
    assert mail.outbox == []
    race_now = _at(8)  # the confirmations and Tuesday's two-hour reminders are due
    due = Notice.objects.filter(state=NoticeState.PENDING, due_at__lte=race_now).count()
    assert due >= 10
    barrier = threading.Barrier(4)
    errors: list[str] = []

    def worker() -> None:
        try:
            barrier.wait()
            notices_send_due(now=race_now)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    message_ids = Counter(m.extra_headers["Message-ID"] for m in mail.outbox)
    assert all(count == 1 for count in message_ids.values())
    sent = Notice.objects.filter(state=NoticeState.SENT)
    assert len(message_ids) == sent.count() == due
    assert set(message_ids) == {f"<{n.public_id}@harbour.example>" for n in sent}
    assert not Notice.objects.filter(state=NoticeState.CLAIMED).exists()


# --- The tasks -------------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch) -> list[datetime]:
    """The wall clock the tasks read, settable by the test."""
    moment = [NOW]
    monkeypatch.setattr(timezone, "now", lambda: moment[0])
    return moment


def test_a_booking_sends_its_confirmations_as_soon_as_it_commits(booked, clock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _book_individual(booked, start=_at(10, day=THURSDAY))
    assert sorted(m.to[0] for m in mail.outbox) == ["cora@mail.example", "therapist.a@harbour.example"]
    # The minute sweep sends the reminder once it is due, and only once.
    clock[0] = _at(10)
    notices_sweep.call_local()
    notices_sweep.call_local()
    assert [m.subject.split(":")[0] for m in mail.outbox if m.to == ["cora@mail.example"]] == ["Confirmed", "Reminder"]


def test_the_sweep_reports_stuck_claims(booked, clock, caplog):
    _book_individual(booked)
    Notice.objects.filter(recipient_email="cora@mail.example").update(state=NoticeState.CLAIMED, claimed_at=NOW)
    clock[0] = NOW + timedelta(minutes=20)
    with caplog.at_level(logging.WARNING, logger="rapport.scheduling.mail"):
        notices_sweep.call_local()
    assert "claimed over 15 minutes ago" in caplog.text
    assert _to("cora@mail.example") == []


# --- Through a real SMTP server --------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[SmtpCapture]:
    with SmtpCapture() as capture:
        yield capture


def test_a_confirmation_arrives_through_a_real_smtp_server(booked, smtp):
    appointment = _book_couple(booked)
    assert notices_send_due(now=NOW) == 3
    assert sorted(r for e in smtp.envelopes for r in e.rcpt_tos) == [
        "pat@mail.example",
        "quinn@mail.example",
        "therapist.a@harbour.example",
    ]
    assert {e.mail_from for e in smtp.envelopes} == {"no-reply@rapport.invalid"}
    quinn = smtp.only(to="quinn@mail.example")
    assert quinn["Subject"] == "Confirmed: Couples session with Theo Treating on Tue 24 Nov, 18:00 (Europe/London)"
    assert quinn["Auto-Submitted"] == "auto-generated"
    link = _manage_link(quinn)
    token = Participant.objects.get(appointment=appointment, email="quinn@mail.example").token
    assert resolve(urlsplit(link).path).kwargs == {"token": token}
    part, calendar, event = _invite(quinn)
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == "invite.ics"
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"{appointment.public_id}@rapport"
    assert event.start == _at(13)
    assert "Couples session" in str(event["SUMMARY"])


def test_a_refused_recipient_fails_alone_and_the_others_are_delivered(booked, smtp):
    _book_couple(booked)
    smtp.refuse("pat@mail.example")
    assert notices_send_due(now=NOW) == 2
    assert smtp.to("pat@mail.example") == []
    assert len(smtp.to("quinn@mail.example")) == 1
    assert len(smtp.to("therapist.a@harbour.example")) == 1
    failed = Notice.objects.get(recipient_email="pat@mail.example", kind=NoticeKind.CONFIRMATION)
    assert failed.state == NoticeState.FAILED
    assert failed.error == "SMTPRecipientsRefused 550"
    assert failed.sent_at is None
    # A failure is not retried by the sweep: the server said no for a reason a person should read.
    assert notices_send_due(now=NOW + timedelta(minutes=1)) == 0


def test_an_unreachable_mail_server_leaves_every_row_for_the_next_run(booked, smtp):
    _book_individual(booked)
    smtp.stop()  # nothing listens on the port any more
    with override_settings(**smtp.email_settings()):
        assert notices_send_due(now=NOW) == 0
    rows = Notice.objects.filter(kind=NoticeKind.CONFIRMATION)
    assert set(rows.values_list("state", flat=True)) == {NoticeState.PENDING}
    assert set(rows.values_list("claimed_at", flat=True)) == {None}
    smtp.start()
    assert notices_send_due(now=NOW + timedelta(minutes=1)) == 2
    assert len(smtp.messages) == 2
