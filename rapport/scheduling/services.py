"""Booking writes: atomic, audited, and never two appointments of one therapist at once."""

from __future__ import annotations

import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
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


def _session_times(service: Service, start: datetime) -> tuple[datetime, datetime, datetime]:
    """The session's end, and the span it blocks in the therapist's diary (buffers included)."""
    end = start + timedelta(minutes=service.duration_minutes)
    return end, start - timedelta(minutes=service.buffer_before_minutes), end + timedelta(minutes=service.buffer_after_minutes)


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
    """Book ``start`` if it is one of the therapist's free starts for the service.

    First a plain read asks the slot core, as the booking page does, so a time already gone is
    refused without taking any lock. Then one short write transaction re-checks what can change
    in between, another booking of this therapist, and inserts. On SQLite that transaction is
    IMMEDIATE: it holds the database's write lock from its first statement, so no other booking
    interleaves. On PostgreSQL the therapist's row is locked, and the exclusion constraint stays
    as the backstop. A loser, or a booker who cannot get the lock in time, gets SlotUnavailable.
    """
    _check_fit(therapist=therapist, service=service, case=case, contact_email=contact_email)
    now = now or timezone.now()
    if start.tzinfo is None:
        raise ValidationError("The start time must include its time zone.")
    offered = free_starts(therapist=therapist, service=service, window_start=start, window_end=start + timedelta(minutes=1), now=now)
    if start not in offered:
        raise SlotUnavailable()
    try:
        return _book_locked(
            actor=actor,
            therapist=therapist,
            service=service,
            start=start,
            case=case,
            contact_name=contact_name,
            contact_email=contact_email,
            reason=reason,
        )
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        # SQLite's busy timeout ran out: many people are writing at once. Nothing was saved.
        raise SlotUnavailable("Many people are booking at this moment and this time could not be confirmed. Please try again.") from None


@transaction.atomic
def _book_locked(
    *,
    actor: User | None,
    therapist: Therapist,
    service: Service,
    start: datetime,
    case: Case | None,
    contact_name: str,
    contact_email: str,
    reason: str,
) -> Appointment:
    if connection.vendor == "postgresql":
        Therapist.objects.select_for_update().filter(pk=therapist.pk).first()
    end, blocked_start, blocked_end = _session_times(service, start)
    taken = Appointment.objects.filter(therapist=therapist, blocked_start__lt=blocked_end, blocked_end__gt=blocked_start).exclude(
        status=AppointmentStatus.CANCELLED
    )
    if taken.exists():
        raise SlotUnavailable()
    if therapist.max_sessions_per_day is not None:
        zone = ZoneInfo(therapist.time_zone)
        local_day = start.astimezone(zone).date()
        day_start = datetime.combine(local_day, time(0), tzinfo=zone)
        same_day = Appointment.objects.filter(therapist=therapist, start__gte=day_start, start__lt=day_start + timedelta(days=1)).exclude(
            status=AppointmentStatus.CANCELLED
        )
        if same_day.count() >= therapist.max_sessions_per_day:
            raise SlotUnavailable()
    appointment = Appointment(
        practice_id=therapist.practice_id,
        therapist=therapist,
        service=service,
        case=case,
        start=start,
        end=end,
        blocked_start=blocked_start,
        blocked_end=blocked_end,
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
    _audit_appointment(actor=actor, appointment=appointment, action=Action.CREATE)
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


def _audit_appointment(*, actor: User | None, appointment: Appointment, action: Action, change: str | None = None) -> None:
    """One event per client of the appointment's case, or one without a client for a consultation."""
    fields = [change] if change else None
    if appointment.case is not None:
        case_audit(
            actor=actor,
            action=action,
            case=appointment.case,
            fields=fields,
            object_type="scheduling.appointment",
            object_id=appointment.public_id,
        )
    else:
        audit_record(
            actor=actor,
            action=action,
            object_type="scheduling.appointment",
            object_id=appointment.public_id,
            practice_id=appointment.practice.public_id,
            detail={"fields": fields} if fields else None,
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
    _audit_appointment(actor=actor, appointment=appointment, action=Action.UPDATE, change="cancelled_late" if late else "cancelled")
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
    appointment.start = new_start
    appointment.end, appointment.blocked_start, appointment.blocked_end = _session_times(appointment.service, new_start)
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
    _audit_appointment(actor=actor, appointment=appointment, action=Action.UPDATE, change="moved_late" if late else "moved")
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, actor: User, appointment: Appointment, now: datetime | None = None) -> Appointment:
    now = now or timezone.now()
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.BOOKED or appointment.start > now:
        raise ValidationError("Only a booked session that has started can be marked as a no-show.")
    appointment.status = AppointmentStatus.NO_SHOW
    appointment.save(update_fields=["status", "updated_at"])
    _audit_appointment(actor=actor, appointment=appointment, action=Action.UPDATE, change="no_show")
    return appointment
