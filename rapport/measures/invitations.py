"""Check-ins reach the client: created as sessions approach or end, one invitation, at most one reminder.

A periodic task (``rapport.measures.tasks.checkins_sweep_task``, every five minutes) runs three steps:

1. **Issue.** Every appointment whose check-ins may now exist (not cancelled or missed, with a case,
   starting within ``BEFORE_OPENS`` or ended within ``AFTER_EXPIRES``) goes through
   ``administrations_for_appointment``, which creates what the case's plan asks for and nothing twice.
2. **Invite.** Open check-ins whose window has opened and that nobody invited yet are grouped by
   client, appointment and timing, and each group becomes **one** email: a client with two
   questionnaires before a session gets one message with two links, not two messages. Each partner
   of a couple has their own rows, so their own email with their own links only.
3. **Remind.** A check-in still open some hours before it is due gets one reminder (see
   ``REMIND_BEFORE_START`` and ``REMIND_AFTER_END``), grouped the same way.

Each email is claimed first: the group's rows are locked and their ``invited_at`` (or
``reminded_at``) set in one short transaction that commits before anything is sent, so two workers
never send the same email. As with the appointment outbox (``rapport.scheduling.mail``): when the
mail server cannot be reached at all, the claim is given back for the next run; when it refuses the
message, the rows keep their claim and the reason goes in ``email_error`` for a person to look at.
A worker that dies between claim and send leaves the email unsent: at most once, never twice.

No email carries anything clinical: no questionnaire's name, no topic, no score. It names the
practice, the therapist, the session, when to answer by (in the client's own zone), the links, and
how to pause check-ins.
"""

from __future__ import annotations

import logging
import smtplib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat

from rapport.audit.models import Action
from rapport.clients.models import Client
from rapport.core.greeting import greeting_name
from rapport.core.timezones import first_known_zone
from rapport.measures.audit import administration_audit
from rapport.measures.links import checkin_link_url
from rapport.measures.models import OPEN_STATUSES, Administration, Timing
from rapport.measures.services import AFTER_EXPIRES, BEFORE_OPENS, administrations_for_appointment, check_ins_paused
from rapport.practice.models import ServiceKind
from rapport.scheduling.models import Appointment, AppointmentStatus

logger = logging.getLogger("rapport.measures.invitations")

# When the one reminder goes [design]. Before a session: a day ahead, the evening before at the
# latest for a morning session, so there is still time to answer at leisure. After it: 20 hours
# after the end, four hours before the check-in is due, while the session is still fresh.
REMIND_BEFORE_START = timedelta(hours=24)
REMIND_AFTER_END = timedelta(hours=20)
# A reminder hard on the heels of its invitation is noise: none when the invitation went out less
# than this before the reminder's time (a session booked for tomorrow gets the invitation only).
REMINDER_MIN_GAP = timedelta(hours=12)

# Rows looked at per run; the next run, five minutes later, takes the rest.
BATCH = 500

INVITATION = "invitation"
REMINDER = "reminder"

NO_ADDRESS = "no email address"

_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


# --- 1. Issue ----------------------------------------------------------------------------------------


def appointments_due_for_checkins(now: datetime) -> QuerySet[Appointment]:
    """Appointments whose check-ins may exist now: bounded to the six days around ``now``.

    A before-session check-in opens ``BEFORE_OPENS`` ahead of the start; an after-session one
    stays open ``AFTER_EXPIRES`` after the end. Outside that span there is nothing to create.
    A missed session (no-show) has nothing to check in about.
    """
    return (
        Appointment.objects.filter(
            case__isnull=False,
            status__in=[AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED],
            start__lte=now + BEFORE_OPENS,
            end__gt=now - AFTER_EXPIRES,
        )
        .exclude(service__kind=ServiceKind.CONSULTATION)
        .order_by("start", "id")
    )


def checkins_issue(*, now: datetime) -> int:
    """Create the check-ins every due appointment's plan asks for; return how many were created.

    Each appointment is its own transaction: one that fails (a plan naming an instrument file that
    has since been removed, say) is logged and does not hold up the others.
    """
    created = 0
    for appointment in appointments_due_for_checkins(now):
        try:
            created += len(administrations_for_appointment(appointment, now=now))
        except Exception:
            logger.exception("check-ins for appointment %s could not be created", appointment.public_id)
    return created


# --- 2 and 3. Invite and remind ----------------------------------------------------------------------


def _due_for_invitation(now: datetime) -> QuerySet[Administration]:
    return Administration.objects.filter(
        appointment__isnull=False,
        status__in=OPEN_STATUSES,
        invited_at__isnull=True,
        opens_at__lte=now,
        # Once the answer-by time has passed an invitation would only apologise; the row expires.
        due_at__gt=now,
        expires_at__gt=now,
    ).exclude(token="")


def _due_for_reminder(now: datetime) -> QuerySet[Administration]:
    before = Q(
        timing=Timing.BEFORE,
        due_at__lte=now + REMIND_BEFORE_START,
        invited_at__lte=F("due_at") - (REMIND_BEFORE_START + REMINDER_MIN_GAP),
    )
    after = Q(
        timing=Timing.AFTER,
        opens_at__lte=now - REMIND_AFTER_END,
        invited_at__lte=F("opens_at") + (REMIND_AFTER_END - REMINDER_MIN_GAP),
    )
    return (
        Administration.objects.filter(
            appointment__isnull=False,
            status__in=OPEN_STATUSES,
            invited_at__isnull=False,
            reminded_at__isnull=True,
            email_error="",
            due_at__gt=now,
            expires_at__gt=now,
        )
        .filter(before | after)
        .exclude(token="")
    )


def invitations_send_due(*, now: datetime) -> int:
    """Send every due invitation, one email per client, appointment and timing; return how many went."""
    return _send_due(_due_for_invitation(now), kind=INVITATION, now=now)


def reminders_send_due(*, now: datetime) -> int:
    """Send every due reminder, one email per client, appointment and timing; return how many went."""
    return _send_due(_due_for_reminder(now), kind=REMINDER, now=now)


def _groups(rows: QuerySet[Administration]) -> list[list[int]]:
    grouped: dict[tuple[int, int | None, str], list[int]] = defaultdict(list)
    for pk, client_id, appointment_id, timing in rows.order_by("due_at", "id").values_list("pk", "client_id", "appointment_id", "timing")[
        :BATCH
    ]:
        grouped[(client_id, appointment_id, timing)].append(pk)
    return list(grouped.values())


def _send_due(rows: QuerySet[Administration], *, kind: str, now: datetime) -> int:
    sent = 0
    for pks in _groups(rows):
        outcome = _send_group(pks, kind=kind, now=now)
        if outcome == "sent":
            sent += 1
        elif outcome == "unreachable":
            break  # the next run tries again
    return sent


def _claim_field(kind: str) -> str:
    return "invited_at" if kind == INVITATION else "reminded_at"


def _send_group(pks: list[int], *, kind: str, now: datetime) -> str:
    """Claim one group's rows, then email them; "sent", "skipped", "failed" or "unreachable"."""
    field = _claim_field(kind)
    first = Administration.objects.select_related("client").get(pk=pks[0])
    if check_ins_paused(first.client):
        # Not claimed: should the client resume before the check-in is due, the email still goes.
        logger.info("check-in %s of administration %s not sent: the client paused check-ins", kind, first.public_id)
        return "skipped"
    with transaction.atomic():
        rows = list(
            Administration.objects.select_for_update(of=("self",))
            .select_related("client__user", "practice", "appointment__therapist", "appointment__practice")
            .filter(pk__in=pks, status__in=OPEN_STATUSES, expires_at__gt=now, **{f"{field}__isnull": True})
            .order_by("id")
        )
        if not rows:
            return "skipped"  # another worker took them, or they closed meanwhile
        claimed = [row.pk for row in rows]
        address = rows[0].client.email.strip()
        Administration.objects.filter(pk__in=claimed).update(
            **{field: now}, updated_at=now, **({"email_error": NO_ADDRESS} if not address else {})
        )
        for row in rows:
            administration_audit(row, actor=None, action=Action.UPDATE, fields=["invited" if kind == INVITATION else "reminded"])
    if not address:
        logger.warning("check-in %s for client %s not sent: the client has no email address", kind, rows[0].client.public_id)
        return "failed"
    try:
        message = checkin_email(rows, reminder=kind == REMINDER)
    except Exception as exc:
        logger.exception("check-in %s for administration %s could not be prepared", kind, rows[0].public_id)
        _record_error(claimed, f"render: {_short_error(exc)}", now)
        return "failed"
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:
        # No connection, so certainly nothing left: the one case in which the claim goes back.
        logger.warning("mail server unreachable (%s); check-in %s for %s left for the next run", _short_error(exc), kind, rows[0].public_id)
        Administration.objects.filter(pk__in=claimed, **{field: now}).update(**{field: None}, updated_at=now)
        return "unreachable"
    try:
        accepted = connection.send_messages([message])
    except Exception as exc:
        logger.warning("check-in %s for %s failed: %s", kind, rows[0].public_id, _short_error(exc))
        _record_error(claimed, _short_error(exc), now)
        return "failed"
    finally:
        try:
            connection.close()
        except Exception as exc:
            logger.warning("closing the mail connection failed: %s", _short_error(exc))
    if not accepted:
        _record_error(claimed, "not accepted", now)
        return "failed"
    logger.info("check-in %s sent for %d check-in(s), first %s", kind, len(rows), rows[0].public_id)
    return "sent"


def _record_error(pks: Iterable[int], error: str, now: datetime) -> None:
    Administration.objects.filter(pk__in=list(pks)).update(email_error=error[:300], updated_at=now)


def _short_error(exc: BaseException) -> str:
    # The type and the SMTP code say what went wrong; the server's words may quote the address.
    code = getattr(exc, "smtp_code", None)
    if code is None and isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = ",".join(sorted({str(reply[0]) for reply in exc.recipients.values()}))
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


# --- The email ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    label: str
    url: str


@dataclass(frozen=True)
class _View:
    """What the templates may show: plain strings decided here, so nothing clinical can reach them."""

    reminder: bool
    before: bool
    greeting_name: str
    practice: str
    therapist: str
    session: str
    answer_by: str
    count: str
    links: list[_Link]
    pause_link: str
    reply_to: str


def _when(moment: datetime, client: Client, appointment: Appointment) -> str:
    zone = first_known_zone(client.time_zone, appointment.therapist.time_zone, appointment.practice.time_zone)
    local = moment.astimezone(zone)
    return f"{dateformat.format(local, 'l j F Y, H:i')} ({zone.key})"


def _count(n: int) -> str:
    return "1 short check-in" if n == 1 else f"{n} short check-ins"


def checkin_email(rows: list[Administration], *, reminder: bool) -> EmailMultiAlternatives:
    """One email for one client's check-ins of one appointment and timing. Reads only; sends nothing.

    The links are labelled by position ("Check-in 1 of 2"), never by questionnaire: an email can be
    read over a shoulder or in a shared mailbox, and which questions a therapist asks says something.
    """
    first = rows[0]
    client, appointment = first.client, first.appointment
    assert appointment is not None  # the sweeps only pick check-ins of an appointment
    practice = appointment.practice
    therapist = appointment.therapist
    name = (client.preferred_name or client.full_name).strip()
    links = [
        _Link(label=f"Check-in {n} of {len(rows)}" if len(rows) > 1 else "Your check-in", url=checkin_link_url(row.token))
        for n, row in enumerate(rows, start=1)
    ]
    view = _View(
        reminder=reminder,
        before=first.timing == Timing.BEFORE,
        greeting_name=greeting_name(name),
        practice=practice.name,
        therapist=therapist.display_name,
        session=_when(appointment.start, client, appointment),
        answer_by=_when(min(row.due_at for row in rows), client, appointment),
        count=_count(len(rows)),
        links=links,
        # Reversed by name: the portal sits above this app and is not imported from here.
        pause_link=settings.SITE_URL + reverse("portal:consents") if client.user_id is not None else "",
        reply_to=practice.contact_email,
    )
    when = "before your session" if view.before else "after your session"
    subject = f"{'Reminder: ' if reminder else ''}{view.count} {when} with {view.therapist}"
    context = {"v": view}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/checkin_invitation.txt", context).strip() + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[client.email],
        reply_to=[practice.contact_email] if practice.contact_email else None,
        headers=_HEADERS,
    )
    message.attach_alternative(render_to_string("emails/checkin_invitation.html", context), "text/html")
    return message
