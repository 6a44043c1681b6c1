"""Booking writes: atomic, audited, and never two appointments of one therapist at once."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
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
from rapport.scheduling import hooks
from rapport.scheduling.availability import free_starts
from rapport.scheduling.models import Appointment, AppointmentStatus, NoticeKind, Participant, TimeBlock
from rapport.scheduling.notifications import notices_queue

BUSY_MESSAGE = "Many people are booking at this moment and this time could not be confirmed. Please try again."


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
    contact_phone: str = "",
    time_zone: str = "",
    privacy_accepted: bool = False,
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
    # Most refusals in a rush are for a time someone has just taken: one indexed query answers
    # them before the slot core loads the therapist's hours.
    if start_taken(therapist, service, start):
        raise SlotUnavailable()
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
            contact_phone=contact_phone,
            reason=reason,
            time_zone=time_zone,
            privacy_accepted_at=now if privacy_accepted else None,
            now=now,
        )
    except OperationalError as exc:
        if "locked" not in str(exc):
            raise
        # SQLite's busy timeout ran out: many people are writing at once. Nothing was saved.
        raise SlotUnavailable(BUSY_MESSAGE) from None


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
    contact_phone: str,
    reason: str,
    time_zone: str,
    privacy_accepted_at: datetime | None,
    now: datetime,
) -> Appointment:
    if connection.vendor == "postgresql":
        Therapist.objects.select_for_update().filter(pk=therapist.pk).first()
    end, blocked_start, blocked_end = _session_times(service, start)
    if _time_taken(therapist, blocked_start, blocked_end):
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
        contact_phone=contact_phone.strip(),
        reason=reason.strip(),
        privacy_accepted_at=privacy_accepted_at,
        video_room=secrets.token_urlsafe(32) if service.is_online else "",
    )
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError:
        # PostgreSQL's exclusion constraint: another booking won the race after all.
        raise SlotUnavailable() from None
    _participants_create(appointment, time_zone=time_zone)
    appointment_audit(actor=actor, appointment=appointment, action=Action.CREATE)
    notices_queue(appointment=appointment, kind=NoticeKind.CONFIRMATION, now=now)
    return appointment


def start_taken(therapist: Therapist, service: Service, start: datetime) -> bool:
    """Whether the service at ``start`` (buffers included) overlaps a live appointment or a block of the therapist.

    Tells "taken since it was offered" from "never offered" when a start is refused.
    """
    _, blocked_start, blocked_end = _session_times(service, start)
    return _time_taken(therapist, blocked_start, blocked_end)


def _time_taken(therapist: Therapist, blocked_start: datetime, blocked_end: datetime, *, ignore: Appointment | None = None) -> bool:
    """Whether another live appointment or a time block of the therapist overlaps the span."""
    appointments = Appointment.objects.filter(therapist=therapist, blocked_start__lt=blocked_end, blocked_end__gt=blocked_start).exclude(
        status=AppointmentStatus.CANCELLED
    )
    if ignore is not None:
        appointments = appointments.exclude(pk=ignore.pk)
    return appointments.exists() or TimeBlock.objects.filter(therapist=therapist, start__lt=blocked_end, end__gt=blocked_start).exists()


def manage_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _participant_add(appointment: Appointment, *, name: str, email: str, time_zone: str, client_id: int | None = None) -> Participant:
    token = secrets.token_urlsafe(32)
    return Participant.objects.create(
        appointment=appointment,
        client_id=client_id,
        name=name,
        email=email,
        time_zone=time_zone,
        token_hash=manage_token_hash(token),
        token=token,
    )


def _participants_create(appointment: Appointment, *, time_zone: str) -> list[Participant]:
    """Each person of the booking gets their own manage link; a couple's partners one each."""
    if appointment.case is not None:
        members = appointment.case.members.select_related("client").order_by("position")
        return [
            _participant_add(
                appointment,
                name=member.client.full_name,
                email=member.client.email,
                time_zone=time_zone or member.client.time_zone,
                client_id=member.client_id,
            )
            for member in members
        ]
    if appointment.contact_email:
        return [
            _participant_add(
                appointment,
                name=appointment.contact_name,
                email=appointment.contact_email,
                time_zone=time_zone or appointment.therapist.time_zone,
            )
        ]
    return []


class PolicyRefused(Exception):
    """The practice's booking policy does not allow this change online; the message says what to do."""


@dataclass(frozen=True)
class ChangeRule:
    """Whether a client may cancel or move this appointment online now, whether it would be late, and if not, why."""

    allowed: bool
    late: bool = False
    refusal: str = ""


def client_change_rule(appointment: Appointment, now: datetime) -> ChangeRule:
    """The practice's policy for a change made by a client; the manage page shows it, the services enforce it."""
    practice = appointment.practice
    if appointment.status != AppointmentStatus.BOOKED or appointment.start <= now:
        return ChangeRule(allowed=False)
    if appointment.case is not None and appointment.case.kind == CaseKind.COUPLE and not practice.couple_partner_may_change_alone:
        return ChangeRule(
            allowed=False,
            refusal="At this practice both partners decide together about a couples session. "
            "To change or cancel it, please contact the practice.",
        )
    late = appointment.start - now < timedelta(hours=practice.cancellation_window_hours)
    if late and not practice.late_cancellation_allowed:
        return ChangeRule(
            allowed=False,
            late=True,
            refusal=f"This session starts in less than {practice.cancellation_window_hours} hours, and this practice does not "
            "change or cancel sessions online that late. Please contact the practice.",
        )
    return ChangeRule(allowed=True, late=late)


def _client_change_allowed(*, appointment: Appointment, now: datetime) -> bool:
    """Enforce the policy for a change made by a client; return whether it is late."""
    rule = client_change_rule(appointment, now)
    if not rule.allowed and rule.refusal:
        raise PolicyRefused(rule.refusal)
    return rule.late


def appointment_audit(*, actor: User | None, appointment: Appointment, action: Action, change: str | None = None) -> None:
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


def _lock_for_change(appointment: Appointment, *, now: datetime, by_client: bool, verb: str) -> tuple[Appointment, bool]:
    """Lock the appointment for a cancel or a move, check it can still change, and say whether it is late."""
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.BOOKED:
        raise ValidationError(f"Only a booked session can be {verb}.")
    if appointment.start <= now:
        raise ValidationError("This session has already started.")
    late = _client_change_allowed(appointment=appointment, now=now) if by_client else False
    return appointment, late


@transaction.atomic
def appointment_cancel(
    *, actor: User | None, appointment: Appointment, by_client: bool, message: str = "", now: datetime | None = None
) -> Appointment:
    """Cancel within the practice's policy. A client's cancellation inside the window is recorded as late.

    Everyone of the appointment (each partner, the therapist) is emailed at once, with ``message``.
    """
    now = now or timezone.now()
    appointment, late = _lock_for_change(appointment, now=now, by_client=by_client, verb="cancelled")
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.late_cancellation = late
    appointment.sequence += 1
    appointment.save(update_fields=["status", "cancelled_at", "late_cancellation", "sequence", "updated_at"])
    appointment_audit(actor=actor, appointment=appointment, action=Action.UPDATE, change="cancelled_late" if late else "cancelled")
    notices_queue(appointment=appointment, kind=NoticeKind.CANCELLATION, now=now, message=message)
    hooks.cancelled(appointment)
    return appointment


@transaction.atomic
def appointment_reschedule(
    *,
    actor: User | None,
    appointment: Appointment,
    new_start: datetime,
    by_client: bool,
    message: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Move a session to another free time, keeping its identity (calendar UID) and raising SEQUENCE.

    The new time is checked with the session's own time counted as free (so it may move by a
    quarter of an hour), under the same locks as a booking; a failed move changes nothing.
    """
    now = now or timezone.now()
    appointment, late = _lock_for_change(appointment, now=now, by_client=by_client, verb="moved")
    if connection.vendor == "postgresql":
        Therapist.objects.select_for_update().filter(pk=appointment.therapist_id).first()
    offered = free_starts(
        therapist=appointment.therapist,
        service=appointment.service,
        window_start=new_start,
        window_end=new_start + timedelta(minutes=1),
        now=now,
        ignore=appointment,
    )
    if new_start not in offered:
        raise SlotUnavailable()
    appointment.start = new_start
    appointment.end, appointment.blocked_start, appointment.blocked_end = _session_times(appointment.service, new_start)
    appointment.late_cancellation = appointment.late_cancellation or late
    appointment.sequence += 1
    try:
        with transaction.atomic():
            appointment.save(update_fields=["start", "end", "blocked_start", "blocked_end", "late_cancellation", "sequence", "updated_at"])
    except IntegrityError:
        raise SlotUnavailable() from None
    appointment_audit(actor=actor, appointment=appointment, action=Action.UPDATE, change="moved_late" if late else "moved")
    notices_queue(appointment=appointment, kind=NoticeKind.CHANGE, now=now, message=message)
    hooks.moved(appointment)
    return appointment


@transaction.atomic
def appointment_mark_no_show(*, actor: User, appointment: Appointment, now: datetime | None = None) -> Appointment:
    now = now or timezone.now()
    appointment = _lock(appointment)
    if appointment.status != AppointmentStatus.BOOKED or appointment.start > now:
        raise ValidationError("Only a booked session that has started can be marked as a no-show.")
    appointment.status = AppointmentStatus.NO_SHOW
    appointment.save(update_fields=["status", "updated_at"])
    appointment_audit(actor=actor, appointment=appointment, action=Action.UPDATE, change="no_show")
    hooks.missed(appointment)
    return appointment
