"""Booking writes: atomic, audited, and never two appointments of one therapist at once."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
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
from rapport.scheduling.models import Appointment, AppointmentStatus


class SlotUnavailable(Exception):
    """The time is not (or no longer) free; say so plainly and offer other times."""

    def __init__(self, message: str = "This time was just taken. Please choose another.") -> None:
        super().__init__(message)


def video_url(appointment: Appointment) -> str | None:
    """The appointment's video link on the configured server, or None (in person, or no server set)."""
    base = settings.RAPPORT_VIDEO_BASE_URL
    if not appointment.video_room or not base:
        return None
    return f"{base}/{appointment.video_room}"


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
        video_room=secrets.token_urlsafe(32) if service.is_online else "",
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


class PolicyRefused(Exception):
    """The practice's booking policy does not allow this change online; the message says what to do."""


def _client_change_allowed(*, appointment: Appointment, now: datetime) -> bool:
    """Check the practice's policy for a change made by a client; return whether it is late."""
    practice = appointment.practice
    if appointment.case is not None and appointment.case.kind == CaseKind.COUPLE and not practice.couple_partner_may_change_alone:
        raise PolicyRefused("At this practice both partners decide together: please contact the practice to change a couples session.")
    late = appointment.start - now < timedelta(hours=practice.cancellation_window_hours)
    if late and not practice.late_cancellation_allowed:
        raise PolicyRefused(
            f"Sessions can be changed online up to {practice.cancellation_window_hours} hours before they start. "
            "Please contact the practice."
        )
    return late


def _audit_change(*, actor: User | None, appointment: Appointment, change: str) -> None:
    if appointment.case is not None:
        case_audit(
            actor=actor,
            action=Action.UPDATE,
            case=appointment.case,
            fields=[change],
            object_type="scheduling.appointment",
            object_id=appointment.public_id,
        )
    else:
        audit_record(
            actor=actor,
            action=Action.UPDATE,
            object_type="scheduling.appointment",
            object_id=appointment.public_id,
            practice_id=appointment.practice.public_id,
            detail={"fields": [change]},
        )


def _lock(appointment: Appointment) -> Appointment:
    # Re-read under the transaction's lock so two changes of one appointment cannot interleave.
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practice", "case", "service", "therapist")
        .get(pk=appointment.pk)
    )


@transaction.atomic
def appointment_cancel(*, actor: User | None, appointment: Appointment, by_client: bool, now: datetime | None = None) -> Appointment:
    """Cancel within the practice's policy. A client's cancellation inside the window is recorded as late."""
    now = now or timezone.now()
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ValidationError("Only a booked session can be cancelled.")
    if appointment.start <= now:
        raise ValidationError("This session has already started.")
    late = _client_change_allowed(appointment=appointment, now=now) if by_client else False
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.late_cancellation = late
    appointment.sequence += 1
    appointment.save(update_fields=["status", "cancelled_at", "late_cancellation", "sequence", "updated_at"])
    _audit_change(actor=actor, appointment=appointment, change="cancelled_late" if late else "cancelled")
    return appointment


@transaction.atomic
def appointment_reschedule(
    *, actor: User | None, appointment: Appointment, new_start: datetime, by_client: bool, now: datetime | None = None
) -> Appointment:
    """Move a session to another free time, keeping its identity (calendar UID) and raising SEQUENCE.

    The old time is released and the new one checked in the same transaction, so a failed move
    leaves the session exactly where it was.
    """
    now = now or timezone.now()
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ValidationError("Only a booked session can be moved.")
    if appointment.start <= now:
        raise ValidationError("This session has already started.")
    late = _client_change_allowed(appointment=appointment, now=now) if by_client else False
    if connection.vendor == "postgresql":
        Therapist.objects.select_for_update().filter(pk=appointment.therapist_id).first()
    # Release the current time so it may be chosen again (e.g. a later start on the same day).
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.CANCELLED)
    offered = free_starts(
        therapist=appointment.therapist,
        service=appointment.service,
        window_start=new_start,
        window_end=new_start + timedelta(minutes=1),
        now=now,
    )
    if new_start not in offered:
        raise SlotUnavailable()
    service = appointment.service
    appointment.start = new_start
    appointment.end = new_start + timedelta(minutes=service.duration_minutes)
    appointment.blocked_start = new_start - timedelta(minutes=service.buffer_before_minutes)
    appointment.blocked_end = appointment.end + timedelta(minutes=service.buffer_after_minutes)
    appointment.status = AppointmentStatus.BOOKED
    appointment.late_cancellation = appointment.late_cancellation or late
    appointment.sequence += 1
    try:
        with transaction.atomic():
            appointment.save(
                update_fields=["start", "end", "blocked_start", "blocked_end", "status", "late_cancellation", "sequence", "updated_at"]
            )
    except IntegrityError:
        raise SlotUnavailable() from None
    _audit_change(actor=actor, appointment=appointment, change="moved_late" if late else "moved")
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, actor: User, appointment: Appointment, now: datetime | None = None) -> Appointment:
    now = now or timezone.now()
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.BOOKED or appointment.start > now:
        raise ValidationError("Only a booked session that has started can be marked as a no-show.")
    appointment.status = AppointmentStatus.NO_SHOW
    appointment.save(update_fields=["status", "updated_at"])
    _audit_change(actor=actor, appointment=appointment, change="no_show")
    return appointment
