"""Check-ins reach the client: the sweep creates them, invites once per client and session, reminds once."""

from __future__ import annotations

import logging
import re
import threading
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import connections
from huey.contrib.djhuey import HUEY

from rapport.audit.models import AuditEvent
from rapport.consents.services import ItemSpec, consent_document_create, consent_sign, consent_version_publish
from rapport.core.keyrotation import encrypted_fields
from rapport.measures import invitations, tasks
from rapport.measures.invitations import NO_ADDRESS, checkins_issue, invitations_send_due, reminders_send_due
from rapport.measures.links import checkin_link_path, checkin_link_url
from rapport.measures.models import Administration, AdministrationStatus
from rapport.measures.services import answers_save
from rapport.practice.models import Service
from rapport.practice.services import hash_token
from rapport.scheduling.models import Appointment
from rapport.scheduling.services import appointment_book, appointment_cancel
from tests.checkins import NOW, PHQ9_NO_RISK, TORONTO, at, book, prepare
from tests.personas import World, build_world

SITE_URL = "https://harbour.example"
THURSDAY = date(2026, 11, 26)
# Words that would tell a reader what a check-in asks or found: questionnaire names, topics, scores.
CLINICAL = (
    "PHQ",
    "GAD",
    "Patient Health",
    "Anxiety",
    "anxiety",
    "Depress",
    "depress",
    "Questionnaire",
    "alliance",
    "Alliance",
    "mood",
    "score",
    "Score",
    "severe",
    "moderate",
    "phq9",
    "gad7",
)
_LINK = re.compile(r"https?://[^\s<>\"')]+/checkin/[^\s<>\"')]+/")


@pytest.fixture
def ready(world: World, settings) -> World:
    settings.SITE_URL = SITE_URL
    return prepare(world)


def sweep(now: datetime) -> int:
    """One run of the periodic task, at a pinned time."""
    checkins_issue(now=now)
    return invitations_send_due(now=now) + reminders_send_due(now=now)


def checkin_mail(to: str | None = None) -> list[EmailMessage]:
    return [m for m in mail.outbox if "check-in" in m.subject and (to is None or m.to == [to])]


def links_in(message: EmailMessage) -> list[str]:
    return _LINK.findall(message.body)


def token_of(link: str) -> str:
    return urlsplit(link).path.removeprefix("/checkin/").removesuffix("/")


def html_of(message: EmailMessage) -> str:
    assert isinstance(message, EmailMultiAlternatives)
    (content, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return str(content)


def pause_check_ins(world: World, client_persona: str) -> None:
    document = consent_document_create(actor=world.user("admin"), practice=world.practice, key="measures", title="Check-ins")
    version = consent_version_publish(
        actor=world.user("admin"),
        document=document,
        content="Fictional: about check-ins.",
        items=[ItemSpec(key="check_ins", text="Send me short check-ins before and after sessions.")],
        material=True,
    )
    client = {"client": world.client, "partner_a": world.partner_a}[client_persona]
    consent_sign(
        actor=world.user(client_persona), client=client, version=version, typed_name=client.full_name, choices={"check_ins": False}
    )


# --- The link ----------------------------------------------------------------------------------------


def test_the_link_is_the_checkin_path_on_the_site_address(settings):
    settings.SITE_URL = SITE_URL
    assert checkin_link_path("abc-DEF_1") == "/checkin/abc-DEF_1/"
    assert checkin_link_url("abc-DEF_1") == "https://harbour.example/checkin/abc-DEF_1/"


def test_the_sealed_token_is_encrypted_at_rest_and_rotated_with_the_other_fields(ready):
    book(ready)
    sweep(NOW)
    row = Administration.objects.filter(client=ready.client).first()
    assert row is not None
    stored = Administration.objects.filter(pk=row.pk).values_list("token", flat=True).get()
    assert row.token
    assert row.token not in stored
    assert hash_token(row.token) == row.token_hash
    assert any(model is Administration and "token" in [f.name for f in fields] for model, fields in encrypted_fields())


# --- Creation and the invitation ---------------------------------------------------------------------


def test_the_sweep_creates_the_check_ins_of_an_approaching_session_and_invites_once(ready):
    assert sweep(NOW) == 0
    assert Administration.objects.count() == 0  # nothing booked, nothing created

    booked = book(ready)  # Tuesday 10:00, the day after NOW
    assert sweep(NOW) == 1
    rows = Administration.objects.filter(appointment=booked)
    assert sorted(rows.values_list("instrument_key", "timing")) == [("alliance", "after"), ("gad7", "before"), ("phq9", "before")]
    [message] = checkin_mail()
    assert message.to == ["cora@mail.example"]
    assert message.subject == "2 short check-ins before your session with Theo Treating"
    assert len(links_in(message)) == 2
    assert "Check-in 1 of 2" in message.body
    assert "Check-in 2 of 2" in message.body
    assert set(rows.filter(timing="before").values_list("invited_at", flat=True)) == {NOW}
    # The after-session check-in exists but waits for the session to end.
    assert rows.get(timing="after").invited_at is None


def test_running_the_sweep_again_sends_nothing_new(ready):
    book(ready)
    assert sweep(NOW) == 1
    assert sweep(NOW) == 0
    assert sweep(NOW + timedelta(minutes=5)) == 0
    assert len(checkin_mail()) == 1
    assert Administration.objects.count() == 3


def test_the_after_session_check_in_is_invited_when_the_session_has_ended(ready):
    appointment = book(ready)
    sweep(NOW)
    mail.outbox.clear()
    assert sweep(appointment.end - timedelta(minutes=1)) == 0
    assert sweep(appointment.end) == 1
    [message] = checkin_mail("cora@mail.example")
    assert message.subject == "1 short check-in after your session with Theo Treating"
    assert "Your check-in:" in message.body
    due = appointment.end.astimezone(TORONTO) + timedelta(days=1)
    assert f"Please answer by Wednesday 25 November 2026, {due:%H:%M} (America/Toronto)" in message.body
    after = Administration.objects.get(appointment=appointment, timing="after")
    assert [hash_token(token_of(link)) for link in links_in(message)] == [after.token_hash]


def test_the_email_says_what_a_client_needs_in_their_own_zone_and_nothing_clinical(ready):
    ready.client.time_zone = "Europe/London"
    ready.client.save(update_fields=["time_zone"])
    book(ready)
    sweep(NOW)
    [message] = checkin_mail()
    text = f"{message.subject}\n{message.body}\n{html_of(message)}"
    # The links' random tokens may spell anything ("...GAD..." now and then): they are not words.
    for link in links_in(message):
        text = text.replace(token_of(link), "")
    leaked = [word for word in CLINICAL if word in text]
    assert leaked == [], f"the email carries {leaked}"
    body = message.body
    assert "Hello Cora," in body
    assert "Theo Treating at Harbour Therapy" in body
    # 10:00 in Toronto is 15:00 in London.
    assert "Tuesday 24 November 2026, 15:00 (Europe/London)" in body
    assert "a minute or two" in body
    assert "up to you" in body
    assert "pause check-ins" in body
    assert f"{SITE_URL}/portal/consents/" in body
    for link in links_in(message):
        assert f'href="{link}"' in html_of(message)


def test_each_link_in_the_email_opens_its_own_administration(ready):
    appointment = book(ready)
    sweep(NOW)
    [message] = checkin_mail()
    tokens = [token_of(link) for link in links_in(message)]
    before = list(Administration.objects.filter(appointment=appointment, timing="before").order_by("id"))
    assert [hash_token(token) for token in tokens] == [row.token_hash for row in before]
    # And the token works: the first link answers the first check-in, and no other.
    result = answers_save(administration=before[0], answers=PHQ9_NO_RISK, final=True, token=tokens[0], now=NOW)
    assert result.administration.status == AdministrationStatus.COMPLETED
    with pytest.raises(PermissionError):
        answers_save(administration=before[1], answers={}, final=False, token=tokens[0], now=NOW)


def test_each_partner_of_a_couple_gets_their_own_email_with_their_own_links_only(ready):
    appointment = book(ready, "couple")
    assert sweep(NOW) == 2
    for address, partner, other in (("pat@mail.example", ready.partner_a, "Quinn"), ("quinn@mail.example", ready.partner_b, "Pat")):
        [message] = checkin_mail(address)
        assert message.subject == "1 short check-in before your session with Theo Treating"
        mine = set(
            Administration.objects.filter(appointment=appointment, client=partner, timing="before").values_list("token_hash", flat=True)
        )
        assert {hash_token(token_of(link)) for link in links_in(message)} == mine
        assert other not in message.body


def test_a_cancelled_session_gets_no_check_ins_and_no_email(ready):
    appointment = book(ready)
    appointment_cancel(actor=ready.user("therapist_a"), appointment=appointment, by_client=False, now=NOW)
    assert sweep(NOW) == 0
    assert Administration.objects.count() == 0
    assert checkin_mail() == []


def test_cancelling_after_the_check_ins_were_created_stops_their_invitation(ready):
    appointment = book(ready, start=at(10, day=THURSDAY))
    checkins_issue(now=NOW)  # created before their window opens (Monday 10:00), not invited yet
    appointment_cancel(actor=ready.user("therapist_a"), appointment=appointment, by_client=False, now=NOW)
    assert sweep(at(10, 5, day=date(2026, 11, 23))) == 0
    assert checkin_mail() == []


def test_a_consultation_gets_no_check_ins_and_no_email(ready):
    appointment_book(
        actor=None,
        therapist=ready.therapist_a,
        service=Service.objects.get(practice=ready.practice, kind="consultation"),
        start=at(11),
        contact_name="Fictional Newcomer",
        contact_email="newcomer@mail.example",
        time_zone="America/Toronto",
        privacy_accepted=True,
        now=NOW,
    )
    # A consultation that somehow carries a case is still not a session to check in about.
    session = book(ready)
    Appointment.objects.filter(pk=session.pk).update(service=Service.objects.get(practice=ready.practice, kind="consultation"))
    assert sweep(NOW) == 0
    assert Administration.objects.count() == 0
    assert checkin_mail() == []


def test_a_client_who_paused_check_ins_is_not_invited(ready):
    appointment = book(ready, "couple", start=at(13, day=THURSDAY))
    checkins_issue(now=NOW)  # both partners' check-ins exist before the window opens
    pause_check_ins(ready, "partner_a")
    sweep(at(13, 5))  # Tuesday: Thursday's before-session window is open
    assert checkin_mail("pat@mail.example") == []
    assert len(checkin_mail("quinn@mail.example")) == 1
    assert Administration.objects.filter(appointment=appointment, client=ready.partner_a, invited_at__isnull=False).count() == 0


def test_a_client_without_an_email_address_gets_no_email_and_the_sweep_goes_on(ready, caplog):
    type(ready.client).objects.filter(pk=ready.client.pk).update(email="")
    book(ready)
    book(ready, "couple")
    with caplog.at_level(logging.WARNING, logger="rapport.measures.invitations"):
        assert sweep(NOW) == 2  # the partners
    assert "has no email address" in caplog.text
    assert checkin_mail("") == []
    cora = Administration.objects.filter(client=ready.client, timing="before")
    assert set(cora.values_list("email_error", flat=True)) == {NO_ADDRESS}
    # Not tried again, and no reminder either.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rapport.measures.invitations"):
        sweep(NOW + timedelta(minutes=5))
    assert "has no email address" not in caplog.text


# --- Reminders -----------------------------------------------------------------------------------------


def test_one_reminder_a_day_before_the_session_for_what_is_still_open(ready):
    appointment = book(ready, start=at(10, day=THURSDAY))
    assert sweep(at(10, 0, day=date(2026, 11, 23))) == 1  # Monday 10:00, the window opens: invitation
    before = list(Administration.objects.filter(appointment=appointment, timing="before").order_by("id"))
    answers_save(administration=before[0], answers=PHQ9_NO_RISK, final=True, token=before[0].token, now=at(12))
    mail.outbox.clear()
    assert sweep(at(9, 59, day=date(2026, 11, 25))) == 0
    assert sweep(at(10, 0, day=date(2026, 11, 25))) == 1  # Wednesday 10:00, a day ahead
    [message] = checkin_mail()
    assert message.subject == "Reminder: 1 short check-in before your session with Theo Treating"
    assert "A gentle reminder" in message.body
    assert [hash_token(token_of(link)) for link in links_in(message)] == [before[1].token_hash]
    assert sweep(at(10, 5, day=date(2026, 11, 25))) == 0
    assert sweep(at(9, 0, day=THURSDAY)) == 0
    assert len(checkin_mail()) == 1
    assert Administration.objects.get(pk=before[0].pk).reminded_at is None


def test_no_reminder_when_the_invitation_went_out_shortly_before(ready):
    book(ready)  # Tuesday 10:00; invited Monday 08:00, 26 hours ahead
    sweep(NOW)
    mail.outbox.clear()
    for hour in (10, 14, 20):
        assert sweep(at(hour, day=date(2026, 11, 23))) == 0
    assert checkin_mail() == []


def test_one_reminder_twenty_hours_after_the_session(ready):
    appointment = book(ready)
    sweep(NOW)
    sweep(appointment.end)
    mail.outbox.clear()
    assert sweep(appointment.end + timedelta(hours=19, minutes=59)) == 0
    assert sweep(appointment.end + timedelta(hours=20)) == 1
    [message] = checkin_mail()
    assert message.subject == "Reminder: 1 short check-in after your session with Theo Treating"
    assert sweep(appointment.end + timedelta(hours=21)) == 0


def test_no_reminder_for_completed_or_cancelled_check_ins(ready):
    done = book(ready, start=at(10, day=THURSDAY))
    couple = book(ready, "couple", start=at(13, day=THURSDAY))
    sweep(at(13, 0, day=date(2026, 11, 23)))
    assert len(checkin_mail()) == 3
    for row in Administration.objects.filter(appointment=done, timing="before"):
        answers = PHQ9_NO_RISK if row.instrument_key == "phq9" else {f"gad7_{n}": 0 for n in range(1, 8)}
        answers_save(administration=row, answers=answers, final=True, token=row.token, now=at(14))
    appointment_cancel(actor=ready.user("therapist_a"), appointment=couple, by_client=False, now=at(15))
    mail.outbox.clear()
    assert sweep(at(13, 0, day=date(2026, 11, 25))) == 0
    assert checkin_mail() == []


def test_no_reminder_once_the_client_paused_check_ins(ready):
    book(ready, start=at(10, day=THURSDAY))
    sweep(at(10, 0, day=date(2026, 11, 23)))
    pause_check_ins(ready, "client")
    mail.outbox.clear()
    assert sweep(at(10, 0, day=date(2026, 11, 25))) == 0
    assert checkin_mail() == []


# --- When sending fails ----------------------------------------------------------------------------------


class _Unreachable:
    def open(self) -> None:
        raise ConnectionRefusedError("fictional: nothing listens")


def test_an_unreachable_mail_server_leaves_the_invitation_for_the_next_run(ready, monkeypatch):
    book(ready)
    monkeypatch.setattr(invitations, "get_connection", lambda: _Unreachable())
    assert sweep(NOW) == 0
    assert set(Administration.objects.filter(timing="before").values_list("invited_at", flat=True)) == {None}
    monkeypatch.undo()
    assert sweep(NOW + timedelta(minutes=5)) == 1
    assert len(checkin_mail()) == 1


def test_a_refused_invitation_is_recorded_and_not_sent_again(ready, smtp_capture):
    smtp_capture.refuse("cora@mail.example")
    book(ready)
    assert sweep(NOW) == 0
    errors = set(Administration.objects.filter(client=ready.client, timing="before").values_list("email_error", flat=True))
    assert errors == {"SMTPRecipientsRefused 550"}
    assert sweep(NOW + timedelta(minutes=5)) == 0
    assert smtp_capture.messages == []


def test_a_real_mail_server_receives_one_message_with_text_and_html(ready, smtp_capture):
    book(ready)
    assert sweep(NOW) == 1
    message = smtp_capture.only(to="cora@mail.example")
    assert message.get_content_type() == "multipart/alternative"
    assert message.get("Auto-Submitted") == "auto-generated"
    assert {part.get_content_type() for part in message.iter_parts()} == {"text/plain", "text/html"}


# --- Two workers, and the task itself ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_racing_sweeps_create_and_invite_exactly_once(settings):
    settings.SITE_URL = SITE_URL
    world = prepare(build_world())
    book(world)
    book(world, "couple")
    barrier = threading.Barrier(4)
    errors: list[str] = []

    def run() -> None:
        try:
            barrier.wait()
            sweep(NOW)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Administration.objects.count() == 7
    assert sorted(m.to[0] for m in checkin_mail()) == ["cora@mail.example", "pat@mail.example", "quinn@mail.example"]
    assert AuditEvent.objects.filter(object_type="measures.administration", detail__fields=["invited"]).count() == 4


def test_the_sweep_is_a_periodic_task_every_five_minutes(ready, monkeypatch):
    task = tasks.checkins_sweep_task
    assert task.s().name in [periodic.name for periodic in HUEY._registry.periodic_tasks]
    assert task.s().validate_datetime(datetime(2026, 11, 23, 8, 5))
    assert not task.s().validate_datetime(datetime(2026, 11, 23, 8, 7))

    class _Clock:
        @staticmethod
        def now() -> datetime:
            return NOW.astimezone(TORONTO)

    book(ready)
    monkeypatch.setattr(tasks, "timezone", _Clock)
    # Huey runs tasks at once in the tests: calling it runs the whole sweep.
    task()
    task()
    assert Administration.objects.count() == 3
    assert len(checkin_mail()) == 1
