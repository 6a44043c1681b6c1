"""The therapist's own diary: time blocks, the private calendar feed, and what follows a consultation.

Writes only, each keyword-only, atomic and audited in its own transaction (STYLE.md 1). Who may
call them is decided by the scoped selectors in ``rapport.scheduling.calendar`` and the views;
the rules that hold whoever calls are checked here.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.models import Case, CaseKind, CaseMember, CaseStatus, Client
from rapport.clients.services import case_open, client_create
from rapport.practice.models import Practice, ServiceKind, Therapist
from rapport.scheduling.models import Appointment, AppointmentStatus, ConsultationException, Participant, TimeBlock
from rapport.scheduling.services import appointment_audit

# A block is for an afternoon of supervision or a week away, not for closing the diary for good:
# longer absences belong in the practice's hours (day-off overrides), which admins manage.
BLOCK_LONGEST = timedelta(days=31)
BLOCK_LABEL_MAX = 120
EXCEPTION_NOTE_MAX = 200
# 32 bytes: a 256-bit secret, the same strength as the booking manage links.
_FEED_TOKEN_BYTES = 32
_FEED_TOKEN_MAX_LENGTH = 128


def _lock_therapist(therapist: Therapist) -> None:
    # Bookings lock the therapist's row on PostgreSQL before checking for clashes; taking the same
    # lock means a booking and a block can never both pass their check for the same time. SQLite's
    # IMMEDIATE transaction already holds the one write lock.
    if connection.vendor == "postgresql":
        Therapist.objects.select_for_update().filter(pk=therapist.pk).first()


def _clash_text(appointments: list[Appointment], zone: ZoneInfo) -> str:
    spans = []
    for appointment in appointments:
        start, end = appointment.start.astimezone(zone), appointment.end.astimezone(zone)
        spans.append(f"{start:%a %d %b %H:%M} to {end:%H:%M}")
    return ", ".join(spans)


@transaction.atomic
def time_block_add(
    *, actor: User | None, therapist: Therapist, start: datetime, end: datetime, label: str = "", now: datetime | None = None
) -> TimeBlock:
    """Keep the time from ``start`` to ``end`` free of new bookings.

    Refused, with a message naming the sessions and their times, when a booked session falls
    inside: a block never silently sits on top of a client's session. The therapist moves or
    cancels those sessions first (each with its own message to the client), then blocks the time.
    """
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValidationError("The block's times must include their time zone.")
    if end <= start:
        raise ValidationError("The block must end after it starts.")
    if end - start > BLOCK_LONGEST:
        raise ValidationError("A block can be at most 31 days long. For a longer absence, ask the practice to mark the days off.")
    if end <= (now or timezone.now()):
        raise ValidationError("This time has already passed.")
    label = label.strip()
    if len(label) > BLOCK_LABEL_MAX:
        raise ValidationError(f"Keep the label to {BLOCK_LABEL_MAX} characters.")
    _lock_therapist(therapist)
    clashes = list(
        Appointment.objects.filter(therapist=therapist, status=AppointmentStatus.BOOKED, start__lt=end, end__gt=start).order_by("start")
    )
    if clashes:
        zone = ZoneInfo(therapist.time_zone)
        count = "a booked session" if len(clashes) == 1 else f"{len(clashes)} booked sessions"
        raise ValidationError(
            f"This time overlaps {count} ({_clash_text(clashes, zone)}). Move or cancel "
            f"{'it' if len(clashes) == 1 else 'them'} first, then block the time."
        )
    block = TimeBlock(
        therapist=therapist, start=start, end=end, label=label, created_by=actor if actor and actor.is_authenticated else None
    )
    block.full_clean()
    block.save()
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="scheduling.timeblock",
        object_id=block.public_id,
        practice_id=therapist.practice.public_id,
    )
    return block


@transaction.atomic
def time_block_remove(*, actor: User | None, block: TimeBlock) -> None:
    """Free the block's time for booking again."""
    public_id = block.public_id
    practice_id = block.therapist.practice.public_id
    TimeBlock.objects.filter(pk=block.pk).delete()
    audit_record(actor=actor, action=Action.DELETE, object_type="scheduling.timeblock", object_id=public_id, practice_id=practice_id)


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _audit_feed(actor: User | None, therapist: Therapist, change: str) -> None:
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="practice.therapist",
        object_id=therapist.public_id,
        practice_id=therapist.practice.public_id,
        detail={"fields": ["calendar_feed"], "change": change},
    )


@transaction.atomic
def calendar_feed_issue(*, actor: User | None, therapist: Therapist) -> str:
    """Give the therapist a new private feed URL; any earlier URL stops working at once.

    Returns the raw token, which is never stored: show it once and forget it.
    """
    token = secrets.token_urlsafe(_FEED_TOKEN_BYTES)
    therapist.calendar_token_hash = feed_token_hash(token)
    therapist.save(update_fields=["calendar_token_hash", "updated_at"])
    _audit_feed(actor, therapist, "issued")
    return token


@transaction.atomic
def calendar_feed_revoke(*, actor: User | None, therapist: Therapist) -> None:
    """Turn the feed off: the URL answers 404 from now on."""
    therapist.calendar_token_hash = ""
    therapist.save(update_fields=["calendar_token_hash", "updated_at"])
    _audit_feed(actor, therapist, "revoked")


def therapist_for_feed_token(token: str) -> Therapist | None:
    """The active therapist whose feed this token opens, or None.

    Only the token's SHA-256 is looked up, so comparing it leaks nothing useful through timing:
    an attacker would have to find preimages of the stored hash. An account that can no longer
    sign in loses its feed too.
    """
    if not token or len(token) > _FEED_TOKEN_MAX_LENGTH:
        return None
    return (
        Therapist.objects.select_related("practice")
        .filter(calendar_token_hash=feed_token_hash(token), is_active=True, user__is_active=True)
        .exclude(calendar_token_hash="")
        .first()
    )


def _client_for_contact(actor: User, appointment: Appointment) -> Client:
    # A person already on the practice's books (matched by the address their record holds) keeps
    # their record as it is; otherwise the record starts from the consultation's contact details.
    email = appointment.contact_email.strip().lower()
    existing = Client.objects.filter(practice_id=appointment.practice_id, email__iexact=email).first()
    if existing is not None:
        return existing
    name = appointment.contact_name.strip()
    if not name:
        raise ValidationError("The consultation has no name to start a client record with.")
    contact = appointment.participants.filter(email__iexact=email).first()
    return client_create(
        actor=actor,
        practice=appointment.practice,
        full_name=name,
        email=email,
        time_zone=contact.time_zone if contact is not None else None,
    )


def _open_case_of(therapist: Therapist, client: Client) -> Case | None:
    """The client's individual case with this therapist that is still open, if there is one."""
    for case in Case.objects.filter(primary_therapist=therapist, kind=CaseKind.INDIVIDUAL, members__client=client).exclude(
        status=CaseStatus.CLOSED
    ):
        if CaseMember.objects.filter(case=case).count() == 1:
            return case
    return None


@transaction.atomic
def consultation_open_case(*, actor: User, appointment: Appointment) -> Case:
    """The person has agreed to become a client: make the client record and case the consultation lacked.

    Links an existing client of the same email address rather than making a second record, and
    reuses that client's open individual case with this therapist. The consultation is then part of
    the case; its contact details and reason stay on it as they were.
    """
    appointment = (
        Appointment.objects.select_for_update(of=("self",)).select_related("practice", "service", "therapist").get(pk=appointment.pk)
    )
    if appointment.service.kind != ServiceKind.CONSULTATION:
        raise ValidationError("Only a consultation can become a client record this way.")
    if appointment.case_id is not None:
        raise ValidationError("This consultation is already part of a case.")
    if appointment.status == AppointmentStatus.CANCELLED:
        raise ValidationError("This consultation was cancelled: it cannot become a client record. Book a new one first.")
    if not appointment.contact_email:
        raise ValidationError("The consultation has no email address to start a client record with.")
    client = _client_for_contact(actor, appointment)
    case = _open_case_of(appointment.therapist, client)
    if case is None:
        case = case_open(actor=actor, therapist=appointment.therapist, clients=[client], status=CaseStatus.CONSULTATION)
    appointment.case = case
    appointment.save(update_fields=["case", "updated_at"])
    Participant.objects.filter(appointment=appointment, email__iexact=appointment.contact_email, client__isnull=True).update(
        client=client, updated_at=timezone.now()
    )
    appointment_audit(actor=actor, appointment=appointment, action=Action.UPDATE, change="case")
    return case


@transaction.atomic
def consultation_exception_grant(*, actor: User, practice: Practice, email: str, note: str = "") -> ConsultationException:
    """Allow this email address one more free consultation (used by the next one it books)."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError("Enter a valid email address.") from None
    note = note.strip()
    if len(note) > EXCEPTION_NOTE_MAX:
        raise ValidationError(f"Keep the note to {EXCEPTION_NOTE_MAX} characters.")
    if ConsultationException.objects.filter(practice=practice, email__iexact=email, used_by__isnull=True).exists():
        raise ValidationError(f"{email} already has an exception that has not been used yet.")
    exception = ConsultationException.objects.create(
        practice=practice, email=email, note=note, granted_by=actor if actor.is_authenticated else None
    )
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="scheduling.consultationexception",
        object_id=exception.public_id,
        practice_id=practice.public_id,
    )
    return exception
