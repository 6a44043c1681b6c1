"""Reminder emails follow the client's consent: a withdrawn "email_reminders" stops them, nothing else does."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from rapport.consents.services import DEFAULT_ITEMS, consent_defaults_create, consent_sign, consent_withdraw
from rapport.practice.models import Service
from rapport.scheduling.mail import notices_send_due
from rapport.scheduling.models import Appointment, Notice, NoticeKind, NoticeState, WorkingHours
from rapport.scheduling.services import appointment_book
from tests.personas import World

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TORONTO)
SESSION = datetime(2026, 11, 26, 10, 0, tzinfo=TORONTO)  # a Thursday; reminders fall due before it
AFTER_REMINDERS = SESSION - timedelta(minutes=30)


@pytest.fixture
def harbour(world: World, settings) -> World:
    settings.SITE_URL = "https://harbour.example"
    for weekday in range(5):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))
    world.therapist_a.time_zone = "America/Toronto"
    world.therapist_a.save(update_fields=["time_zone"])
    world.version = consent_defaults_create(actor=None, practice=world.practice)  # type: ignore[attr-defined]
    return world


def _sign(world: World, client, persona: str, **choices: bool) -> None:
    answers = {item.key: True for item in DEFAULT_ITEMS} | choices
    consent_sign(actor=world.user(persona), client=client, version=world.version, typed_name=client.full_name, choices=answers)  # type: ignore[attr-defined,arg-type]


def _book(world: World, kind: str, **where) -> Appointment:
    service = Service.objects.get(practice=world.practice, kind=kind)
    return appointment_book(actor=world.user("therapist_a"), therapist=world.therapist_a, service=service, start=SESSION, now=NOW, **where)


def _reminders_to(address: str) -> list[str]:
    return [m.subject for m in mail.outbox if m.to == [address] and m.subject.startswith("Reminder:")]


def _reminder_states(appointment: Appointment) -> set[str]:
    return set(Notice.objects.filter(appointment=appointment, kind=NoticeKind.REMINDER).values_list("state", flat=True))


def test_a_client_who_withdrew_email_reminders_gets_none(harbour):
    _sign(harbour, harbour.client, "client")
    consent_withdraw(actor=harbour.user("client"), client=harbour.client, item_key="email_reminders")
    appointment = _book(harbour, "individual", case=harbour.individual_case)
    notices_send_due(now=AFTER_REMINDERS)
    assert _reminders_to("cora@mail.example") == []
    assert _reminder_states(appointment) == {NoticeState.VOID}
    # The booking confirmation is not a reminder: the client still learns of the session.
    assert any(m.to == ["cora@mail.example"] for m in mail.outbox)


def test_a_client_who_said_no_when_signing_gets_none(harbour):
    _sign(harbour, harbour.client, "client", email_reminders=False)
    appointment = _book(harbour, "individual", case=harbour.individual_case)
    notices_send_due(now=AFTER_REMINDERS)
    assert _reminders_to("cora@mail.example") == []
    assert _reminder_states(appointment) == {NoticeState.VOID}


def test_a_client_who_never_signed_still_gets_reminders(harbour):
    appointment = _book(harbour, "individual", case=harbour.individual_case)
    notices_send_due(now=AFTER_REMINDERS)
    assert _reminders_to("cora@mail.example")
    assert NoticeState.SENT in _reminder_states(appointment)


def test_a_client_who_grants_reminders_gets_them(harbour):
    _sign(harbour, harbour.client, "client")
    _book(harbour, "individual", case=harbour.individual_case)
    notices_send_due(now=AFTER_REMINDERS)
    assert _reminders_to("cora@mail.example")


def test_a_reminder_already_due_is_voided_by_a_withdrawal_made_after_booking(harbour):
    _sign(harbour, harbour.client, "client")
    appointment = _book(harbour, "individual", case=harbour.individual_case)
    consent_withdraw(actor=harbour.user("client"), client=harbour.client, item_key="email_reminders")
    notices_send_due(now=AFTER_REMINDERS)
    assert _reminders_to("cora@mail.example") == []
    assert _reminder_states(appointment) == {NoticeState.VOID}


def test_in_a_couple_only_the_partner_who_withdrew_loses_reminders(harbour):
    _sign(harbour, harbour.partner_a, "partner_a", email_reminders=False)
    _sign(harbour, harbour.partner_b, "partner_b")
    _book(harbour, "couple", case=harbour.couple_case)
    notices_send_due(now=AFTER_REMINDERS)
    assert _reminders_to(harbour.partner_a.email) == []
    assert _reminders_to(harbour.partner_b.email)


def test_a_consultation_has_no_client_and_keeps_its_reminders(harbour):
    appointment = _book(harbour, "consultation", contact_name="Robin Visitor", contact_email="robin@mail.example", reason="FICTIONAL")
    notices_send_due(now=AFTER_REMINDERS)
    assert _reminders_to("robin@mail.example")
    assert NoticeState.SENT in _reminder_states(appointment)
