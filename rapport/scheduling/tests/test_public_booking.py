"""Public booking on the real databases: who becomes what, the consultation rule, and nothing half-saved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from rapport.clients.models import Case, CaseKind, CaseStatus, Client
from rapport.practice.models import Service
from rapport.scheduling.booking import (
    BookingRequest,
    ConsultationNotOffered,
    manage_link_opened,
    participant_for_token,
    public_booking_create,
)
from rapport.scheduling.models import Appointment, AppointmentStatus, ConsultationException, Notice, NoticeKind, TimeBlock, WorkingHours
from rapport.scheduling.services import SlotUnavailable, appointment_cancel

TORONTO = ZoneInfo("America/Toronto")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TORONTO)  # a Monday morning
TUESDAY = date(2026, 11, 24)


def _at(hour: int, minute: int = 0, day: date = TUESDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO)


@pytest.fixture
def site(world):
    for therapist in (world.therapist_a, world.therapist_b):
        therapist.time_zone = "America/Toronto"
        therapist.save(update_fields=["time_zone"])
        for weekday in range(5):
            WorkingHours.objects.create(therapist=therapist, weekday=weekday, start=time(9), end=time(17))
    return world


def _request(world, kind: str, **changes) -> BookingRequest:
    fields = {
        "service": Service.objects.get(practice=world.practice, kind=kind),
        "therapist": world.therapist_a,
        "start": _at(10),
        "time_zone": "Europe/London",
        "name": "Robin Visitor",
        "email": "Robin@Mail.example",
        "privacy_accepted": True,
        "reason": "Fictional: sleeping badly since the move",
    }
    fields.update(changes)
    return BookingRequest(**fields)


def test_a_consultation_is_a_contact_on_the_appointment_not_a_client(site):
    made = public_booking_create(practice=site.practice, request=_request(site, "consultation"), now=NOW)
    appointment = made.appointment
    assert appointment.case is None
    assert appointment.contact_email == "robin@mail.example"
    assert appointment.privacy_accepted_at == NOW
    assert not Client.objects.filter(email="robin@mail.example").exists()
    assert made.participant.time_zone == "Europe/London"
    assert participant_for_token(made.token) == made.participant
    kinds = sorted(Notice.objects.filter(appointment=appointment).values_list("kind", "recipient_email"))
    assert (NoticeKind.CONFIRMATION, "robin@mail.example") in kinds
    assert (NoticeKind.CONFIRMATION, site.therapist_a.user.email) in kinds


def test_one_free_consultation_per_person_unless_the_practice_allows_another(site):
    public_booking_create(practice=site.practice, request=_request(site, "consultation"), now=NOW)
    again = _request(site, "consultation", start=_at(14), email="robin@mail.EXAMPLE")
    with pytest.raises(ConsultationNotOffered):
        public_booking_create(practice=site.practice, request=again, now=NOW)
    exception = ConsultationException.objects.create(practice=site.practice, email="robin@mail.example", note="Fictional: asked by phone")
    second = public_booking_create(practice=site.practice, request=again, now=NOW)
    exception.refresh_from_db()
    assert exception.used_by == second.appointment
    with pytest.raises(ConsultationNotOffered):
        public_booking_create(practice=site.practice, request=replace(again, start=_at(15)), now=NOW)


def test_a_cancelled_consultation_does_not_use_up_the_offer(site):
    made = public_booking_create(practice=site.practice, request=_request(site, "consultation"), now=NOW)
    appointment_cancel(actor=None, appointment=made.appointment, by_client=True, now=NOW)
    public_booking_create(practice=site.practice, request=_request(site, "consultation", start=_at(14)), now=NOW)


def test_current_clients_are_not_offered_the_free_consultation(site):
    with pytest.raises(ConsultationNotOffered):
        public_booking_create(practice=site.practice, request=_request(site, "consultation", email=site.client.email), now=NOW)
    assert not Appointment.objects.exists()


def test_a_first_individual_session_creates_the_client_and_an_intake_case_and_the_next_links_it(site):
    first = public_booking_create(practice=site.practice, request=_request(site, "individual", email="new.person@mail.example"), now=NOW)
    case = first.appointment.case
    assert case is not None
    assert case.kind == CaseKind.INDIVIDUAL
    assert case.status == CaseStatus.CONSULTATION
    client = Client.objects.get(email="new.person@mail.example")
    assert list(case.members.values_list("client", flat=True)) == [client.pk]
    assert first.appointment.reason == "Fictional: sleeping badly since the move"
    second = public_booking_create(
        practice=site.practice, request=_request(site, "individual", email="new.person@mail.example", start=_at(13)), now=NOW
    )
    assert second.appointment.case == case
    assert Client.objects.filter(email="new.person@mail.example").count() == 1


def test_a_couples_session_names_both_partners_and_each_gets_a_link_of_their_own(site):
    request = _request(
        site, "couple", email="alex@mail.example", name="Alex Fictional", partner_name="Sam Fictional", partner_email="sam@mail.example"
    )
    made = public_booking_create(practice=site.practice, request=request, now=NOW)
    case = made.appointment.case
    assert case is not None
    assert case.kind == CaseKind.COUPLE
    participants = list(made.appointment.participants.order_by("id"))
    assert [p.email for p in participants] == ["alex@mail.example", "sam@mail.example"]
    assert participants[0].token != participants[1].token
    assert made.participant == participants[0]
    assert {n.recipient_email for n in Notice.objects.filter(appointment=made.appointment, kind=NoticeKind.CONFIRMATION)} == {
        "alex@mail.example",
        "sam@mail.example",
        site.therapist_a.user.email,
    }


def test_bad_couples_requests_save_nothing(site):
    clients_before = Client.objects.count()
    with pytest.raises(ValidationError, match="both partners"):
        public_booking_create(practice=site.practice, request=_request(site, "couple", email="alex@mail.example"), now=NOW)
    with pytest.raises(ValidationError, match="own email"):
        public_booking_create(
            practice=site.practice,
            request=_request(site, "couple", email="alex@mail.example", partner_name="Sam", partner_email="ALEX@mail.example"),
            now=NOW,
        )
    assert Client.objects.count() == clients_before
    assert not Appointment.objects.exists()


def test_a_taken_time_rolls_back_the_new_clients_and_case(site):
    public_booking_create(practice=site.practice, request=_request(site, "consultation"), now=NOW)
    clients_before, cases_before = Client.objects.count(), Case.objects.count()
    with pytest.raises(SlotUnavailable, match="just taken"):
        public_booking_create(practice=site.practice, request=_request(site, "individual", email="late@mail.example"), now=NOW)
    assert (Client.objects.count(), Case.objects.count()) == (clients_before, cases_before)


def test_first_available_takes_the_next_therapist_who_is_free(site):
    public_booking_create(practice=site.practice, request=_request(site, "consultation"), now=NOW)
    other = public_booking_create(
        practice=site.practice, request=_request(site, "consultation", therapist=None, email="kit@mail.example"), now=NOW
    )
    assert other.appointment.therapist == site.therapist_b
    with pytest.raises(SlotUnavailable):
        public_booking_create(
            practice=site.practice, request=_request(site, "consultation", therapist=None, email="lee@mail.example"), now=NOW
        )


def test_a_time_block_closes_its_time(site):
    TimeBlock.objects.create(therapist=site.therapist_a, start=_at(9, 30), end=_at(10, 30), label="Supervision")
    with pytest.raises(SlotUnavailable):
        public_booking_create(practice=site.practice, request=_request(site, "consultation"), now=NOW)
    public_booking_create(practice=site.practice, request=_request(site, "consultation", start=_at(10, 30)), now=NOW)


def test_refusals_that_need_no_lookup(site):
    with pytest.raises(ValidationError, match="privacy"):
        public_booking_create(practice=site.practice, request=_request(site, "consultation", privacy_accepted=False), now=NOW)
    with pytest.raises(SlotUnavailable, match="passed"):
        public_booking_create(practice=site.practice, request=_request(site, "consultation", start=NOW - timedelta(hours=1)), now=NOW)
    with pytest.raises(ValidationError):
        public_booking_create(practice=site.practice, request=_request(site, "consultation", time_zone="Mars/Olympus"), now=NOW)
    foreign = Service.objects.get(practice=site.other_practice, kind="consultation")
    with pytest.raises(ValidationError, match="not offered"):
        public_booking_create(practice=site.practice, request=_request(site, "consultation", service=foreign), now=NOW)
    assert not Appointment.objects.exists()


def test_opening_the_link_verifies_a_consultations_address_and_a_revoked_link_is_dead(site):
    made = public_booking_create(practice=site.practice, request=_request(site, "consultation"), now=NOW)
    assert made.appointment.contact_verified_at is None
    manage_link_opened(made.participant, now=NOW)
    made.appointment.refresh_from_db()
    assert made.appointment.contact_verified_at == NOW
    made.participant.revoked_at = NOW
    made.participant.save(update_fields=["revoked_at"])
    assert participant_for_token(made.token) is None
    assert participant_for_token("") is None
    assert participant_for_token("x" * 500) is None


def test_cancelling_voids_the_reminders_and_tells_everyone(site):
    made = public_booking_create(
        practice=site.practice, request=_request(site, "consultation", start=_at(10, day=TUESDAY + timedelta(days=3))), now=NOW
    )
    reminders = Notice.objects.filter(appointment=made.appointment, kind=NoticeKind.REMINDER)
    assert reminders.count() == 2  # 48 h and 2 h before
    appointment_cancel(actor=None, appointment=made.appointment, by_client=True, message="Fictional: a clash at work", now=NOW)
    assert all(r.state == "void" for r in reminders.all())
    cancellations = Notice.objects.filter(appointment=made.appointment, kind=NoticeKind.CANCELLATION)
    assert {n.recipient_email for n in cancellations} == {"robin@mail.example", site.therapist_a.user.email}
    assert {n.message for n in cancellations} == {"Fictional: a clash at work"}
    assert Appointment.objects.get(pk=made.appointment.pk).status == AppointmentStatus.CANCELLED


def test_a_booking_under_a_known_clients_address_says_so_so_the_page_can_keep_the_link_to_email(site):
    new = public_booking_create(practice=site.practice, request=_request(site, "individual", email="first.time@mail.example"), now=NOW)
    assert not new.joined_existing_client
    known = public_booking_create(
        practice=site.practice, request=_request(site, "individual", email="CORA@mail.example", start=_at(13)), now=NOW
    )
    assert known.joined_existing_client
    assert known.appointment.case == site.individual_case
    site.client.refresh_from_db()
    assert site.client.full_name == "Cora Client"  # the typed name does not change the record
    couple = public_booking_create(
        practice=site.practice,
        request=_request(
            site, "couple", email="new.partner@mail.example", partner_name="X", partner_email=site.partner_a.email, start=_at(15)
        ),
        now=NOW,
    )
    assert couple.joined_existing_client
