"""Public booking: a visitor with no account books a consultation, an individual or a couples session.

The page asks; this module decides. Everything a tampered form could get wrong is checked again
here: the service belongs to the practice, the therapist offers it, the time is one of the
offered starts, the consultation rule holds, both partners of a couple are named and different.
A refused booking saves nothing: clients, case and appointment are written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from rapport.clients.models import Case, CaseKind, CaseMember, CaseStatus, Client
from rapport.clients.services import case_open, client_create
from rapport.core.timezones import validate_time_zone
from rapport.practice.models import Practice, Service, ServiceKind, Therapist
from rapport.scheduling.availability import free_starts
from rapport.scheduling.models import Appointment, AppointmentStatus, ConsultationException, Participant
from rapport.scheduling.services import BUSY_MESSAGE, PolicyRefused, SlotUnavailable, appointment_book, manage_token_hash


class ConsultationNotOffered(PolicyRefused):
    """The free consultation is for people new to the practice, once."""

    def __init__(self) -> None:
        # Worded so as not to say which rule applied: whether an address belongs to a client of
        # a therapy practice is itself confidential.
        super().__init__(
            "The free consultation is for people new to the practice, once per person, so we cannot book it online "
            "for this email address. You are welcome to book a session, or to write to the practice."
        )


@dataclass(frozen=True)
class BookingRequest:
    service: Service
    # None: the first therapist who has this time free.
    therapist: Therapist | None
    start: datetime
    time_zone: str
    name: str
    email: str
    privacy_accepted: bool
    phone: str = ""
    reason: str = ""
    partner_name: str = ""
    partner_email: str = ""


@dataclass(frozen=True)
class BookingMade:
    appointment: Appointment
    # The booker's own participant row and the raw token of their manage link (shown once, on the
    # confirmation page; the partner's link only goes to the partner's email).
    participant: Participant
    token: str
    # The booking joined an existing client's record (matched by email). Whoever typed the
    # address may not be that person, so the page must not hand them the manage link: it goes
    # only to the address, by email.
    joined_existing_client: bool = False


def therapists_bookable(practice: Practice) -> list[Therapist]:
    """Therapists a visitor may book for the service from the public site, in a stable order.

    Only those taking new clients: the public site is where new people arrive. (A therapist's
    working hours may still offer the service on some days only; the slot core decides that.)
    """
    return list(Therapist.objects.filter(practice=practice, is_active=True, accepting_new_clients=True).order_by("display_name", "id"))


def consultation_allowed(practice: Practice, email: str, *, now: datetime) -> bool:
    """Whether this address may still have the free consultation (ignoring exceptions).

    Not for a current or former client of the practice (matched by the address their record
    holds), nor for an address that already has a consultation booked, attended or missed. A
    cancelled consultation did not happen and does not count.
    """
    email = email.strip().lower()
    if Client.objects.filter(practice=practice, email__iexact=email).exists():
        return False
    return not (
        Appointment.objects.filter(practice=practice, service__kind=ServiceKind.CONSULTATION, contact_email__iexact=email)
        .exclude(status=AppointmentStatus.CANCELLED)
        .exists()
    )


def _exception_for(practice: Practice, email: str) -> ConsultationException | None:
    return (
        ConsultationException.objects.select_for_update()
        .filter(practice=practice, email__iexact=email.strip().lower(), used_by__isnull=True)
        .order_by("created_at")
        .first()
    )


def _validate(practice: Practice, request: BookingRequest, now: datetime) -> None:
    service = request.service
    if service.practice_id != practice.pk or not service.is_active:
        raise ValidationError("This service is not offered here.")
    if request.therapist is not None and (request.therapist.practice_id != practice.pk or not request.therapist.is_active):
        raise ValidationError("This therapist is not available for booking.")
    if not request.privacy_accepted:
        raise ValidationError("Please read and agree to the privacy notice to book.")
    if not request.name.strip() or not request.email.strip():
        raise ValidationError("Please give your name and email address.")
    validate_time_zone(request.time_zone)
    if timezone.is_naive(request.start):
        raise ValidationError("The start time must include its time zone.")
    if request.start <= now:
        raise SlotUnavailable("This time has already passed. Please choose another.")
    if service.kind == ServiceKind.COUPLE:
        if not request.partner_name.strip() or not request.partner_email.strip():
            raise ValidationError("A couples session needs both partners' names and email addresses.")
        if request.partner_email.strip().lower() == request.email.strip().lower():
            raise ValidationError("Each partner needs their own email address, so that each gets their own link.")


def _client_for(practice: Practice, name: str, email: str, time_zone: str) -> tuple[Client, bool]:
    """The client with this address (linked, their record unchanged by the form), or a new one; and whether it existed."""
    existing = Client.objects.filter(practice=practice, email__iexact=email.strip().lower()).first()
    if existing is not None:
        return existing, True
    return client_create(actor=None, practice=practice, full_name=name, email=email, time_zone=time_zone), False


def _case_for(therapist: Therapist, clients: list[Client]) -> Case:
    """The open case of exactly these clients with this therapist, or a new one at the intake stage."""
    kind = CaseKind.COUPLE if len(clients) == 2 else CaseKind.INDIVIDUAL
    wanted = {c.pk for c in clients}
    candidates = Case.objects.filter(primary_therapist=therapist, kind=kind).exclude(status=CaseStatus.CLOSED).order_by("-opened_at")
    for case in candidates.filter(members__client_id__in=wanted).distinct():
        if set(CaseMember.objects.filter(case=case).values_list("client_id", flat=True)) == wanted:
            return case
    return case_open(actor=None, therapist=therapist, clients=clients, status=CaseStatus.CONSULTATION)


def _candidates(practice: Practice, request: BookingRequest, now: datetime) -> list[Therapist]:
    if request.therapist is not None:
        return [request.therapist]
    end = request.start + timedelta(minutes=1)
    return [
        t
        for t in therapists_bookable(practice)
        if request.start in free_starts(therapist=t, service=request.service, window_start=request.start, window_end=end, now=now)
    ]


def public_booking_create(*, practice: Practice, request: BookingRequest, now: datetime | None = None) -> BookingMade:
    """Book from the public site; raise SlotUnavailable, ConsultationNotOffered or ValidationError.

    With "first available", the therapists who have the time free are tried in order, so a
    visitor only hears "just taken" when nobody is left.
    """
    now = now or timezone.now()
    _validate(practice, request, now)
    candidates = _candidates(practice, request, now)
    if not candidates:
        raise SlotUnavailable()
    last_refusal: SlotUnavailable | None = None
    for therapist in candidates:
        try:
            return _book_for(practice, therapist, request, now)
        except SlotUnavailable as refusal:
            last_refusal = refusal
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            # SQLite's busy timeout ran out before the write lock came free. Nothing was saved.
            last_refusal = SlotUnavailable(BUSY_MESSAGE)
    assert last_refusal is not None
    raise last_refusal


@transaction.atomic
def _book_for(practice: Practice, therapist: Therapist, request: BookingRequest, now: datetime) -> BookingMade:
    service = request.service
    exception: ConsultationException | None = None
    case: Case | None = None
    joined_existing = False
    if service.kind == ServiceKind.CONSULTATION:
        # Minimal data until the person agrees to become a client: a contact on the appointment.
        if not consultation_allowed(practice, request.email, now=now):
            exception = _exception_for(practice, request.email)
            if exception is None:
                raise ConsultationNotOffered()
    else:
        people = [_client_for(practice, request.name, request.email, request.time_zone)]
        if service.kind == ServiceKind.COUPLE:
            people.append(_client_for(practice, request.partner_name, request.partner_email, request.time_zone))
        clients = [client for client, _ in people]
        joined_existing = any(existed for _, existed in people)
        if service.kind == ServiceKind.COUPLE and clients[0].pk == clients[1].pk:
            raise ValidationError("Each partner needs their own email address, so that each gets their own link.")
        case = _case_for(therapist, clients)
    consultation = case is None
    appointment = appointment_book(
        actor=None,
        therapist=therapist,
        service=service,
        start=request.start,
        case=case,
        contact_name=request.name if consultation else "",
        contact_email=request.email if consultation else "",
        contact_phone=request.phone,
        reason=request.reason,
        time_zone=request.time_zone,
        privacy_accepted=True,
        now=now,
    )
    if exception is not None:
        exception.used_by = appointment
        exception.save(update_fields=["used_by", "updated_at"])
    booker = appointment.participants.get(email__iexact=request.email.strip().lower())
    return BookingMade(appointment=appointment, participant=booker, token=booker.token, joined_existing_client=joined_existing)


def participant_for_token(token: str) -> Participant | None:
    """The participant whose manage link this is, or None (unknown, malformed or revoked)."""
    if not token or len(token) > 128:
        return None
    return (
        Participant.objects.select_related("appointment__practice", "appointment__service", "appointment__therapist", "appointment__case")
        .filter(token_hash=manage_token_hash(token), revoked_at__isnull=True)
        .first()
    )


def manage_link_opened(participant: Participant, *, now: datetime | None = None) -> None:
    """Opening the link proves the address is the booker's: a consultation's email counts as verified."""
    appointment = participant.appointment
    if appointment.case_id is None and appointment.contact_verified_at is None:
        Appointment.objects.filter(pk=appointment.pk, contact_verified_at__isnull=True).update(contact_verified_at=now or timezone.now())
