"""Booking writes: atomic, audited, and never two appointments of one therapist at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case, CaseKind
from rapport.practice.models import Service, ServiceKind, Therapist
from rapport.scheduling.availability import free_starts
from rapport.scheduling.models import Appointment


class SlotUnavailable(Exception):
    """The time is not (or no longer) free; say so plainly and offer other times."""

    def __init__(self, message: str = "This time was just taken. Please choose another.") -> None:
        super().__init__(message)


def _check_fit(*, therapist: Therapist, service: Service, case: Case | None, contact_email: str) -> None:
    if service.practice_id != therapist.practice_id or not service.is_active or not therapist.is_active:
        raise ValidationError("This service is not offered by this therapist.")
    if case is not None and case.practice_id != therapist.practice_id:
        raise ValidationError("This case belongs to another practice.")
    if service.kind == ServiceKind.COUPLE and (case is None or case.kind != CaseKind.COUPLE):
        raise ValidationError("A couples session needs a couple's case.")
    if service.kind == ServiceKind.INDIVIDUAL and (case is None or case.kind != CaseKind.INDIVIDUAL):
        raise ValidationError("An individual session needs an individual case.")
    if service.kind == ServiceKind.CONSULTATION and case is None and not contact_email:
        raise ValidationError("A consultation needs a contact email address.")


@transaction.atomic
def appointment_book(
    *,
    actor: User | None,
    therapist: Therapist,
    service: Service,
    start: datetime,
    case: Case | None = None,
    contact_name: str = "",
    contact_email: str = "",
    reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Book ``start`` if, at this moment, it is one of the therapist's free starts for the service.

    The check and the insert share one transaction. On SQLite it is IMMEDIATE, so it holds the
    database's write lock from the first statement: no other booking can interleave. On
    PostgreSQL the therapist's row is locked first, so bookings of one therapist queue, and the
    exclusion constraint stays as the backstop. Either way a loser gets SlotUnavailable.
    """
    _check_fit(therapist=therapist, service=service, case=case, contact_email=contact_email)
    now = now or timezone.now()
    if start.tzinfo is None:
        raise ValidationError("The start time must include its time zone.")
    if connection.vendor == "postgresql":
        Therapist.objects.select_for_update().filter(pk=therapist.pk).first()
    offered = free_starts(therapist=therapist, service=service, window_start=start, window_end=start + timedelta(minutes=1), now=now)
    if start not in offered:
        raise SlotUnavailable()
    end = start + timedelta(minutes=service.duration_minutes)
    appointment = Appointment(
        practice_id=therapist.practice_id,
        therapist=therapist,
        service=service,
        case=case,
        start=start,
        end=end,
        blocked_start=start - timedelta(minutes=service.buffer_before_minutes),
        blocked_end=end + timedelta(minutes=service.buffer_after_minutes),
        booked_by=actor if actor is not None and actor.is_authenticated else None,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip().lower(),
        reason=reason.strip(),
    )
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError:
        # PostgreSQL's exclusion constraint: another booking won the race after all.
        raise SlotUnavailable() from None
    if case is not None:
        case_audit(actor=actor, action=Action.CREATE, case=case, object_type="scheduling.appointment", object_id=appointment.public_id)
    else:
        audit_record(
            actor=actor,
            action=Action.CREATE,
            object_type="scheduling.appointment",
            object_id=appointment.public_id,
            practice_id=therapist.practice.public_id,
        )
    return appointment
