"""Sending the appointment emails that the outbox owes (``Notice`` rows), each one at most once.

``notifications.py`` writes the rows in the same transaction as the booking, change or
cancellation. Here a worker takes due rows one at a time:

1. **Claim.** A conditional UPDATE moves the row from PENDING to CLAIMED and only the worker
   whose UPDATE changed the row goes on. This is committed before anything is sent, so two
   workers (the on-commit task, the periodic task, a second consumer) never send the same row.
2. **Decide.** A row that a later event made pointless is marked VOID and not sent: anything
   but the cancellation itself once the appointment is cancelled, a confirmation, change or
   reminder written for an older SEQUENCE (a newer email replaces it), a reminder for a session
   that has already started, any email to a participant who was removed, and a reminder to a
   client who said no to email reminders (see ``_reminders_withdrawn``).
3. **Send, then record.** SENT when the mail server accepted the message. FAILED, with a short
   error (exception type and SMTP code, never the text), when it refused it; a refusal (a wrong
   address, a full mailbox) needs a person, so FAILED rows are not retried automatically.

At most once: a worker killed between claiming and recording leaves the row CLAIMED, and nothing
resends it, because the message may already be in the recipient's mailbox and only the mail
server's log can tell. ``notices_stuck`` reports such rows (claimed more than ``STUCK_AFTER``
ago) every minute so that a person can look and decide. The one case where we know for certain
that nothing left the machine, a connection to the mail server that could not be opened, puts
the row back to PENDING for the next run.

Emails carry what a person needs to turn up and nothing clinical: the service, the therapist,
the time in the recipient's own zone, the video link, the recipient's own manage link, the note
that came with a change, and an iTIP invite (``invite.ics``). Never a consultation's reason or a
case summary. The therapist's copy names the clients by initials only, as the calendar feed does.
"""

from __future__ import annotations

import logging
import re
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.consents.models import ItemDecision
from rapport.consents.selectors import consent_granted
from rapport.core.greeting import greeting_name
from rapport.core.timezones import first_known_zone
from rapport.scheduling.ics import Method, appointment_invite, initials
from rapport.scheduling.models import Appointment, AppointmentStatus, Notice, NoticeKind, NoticeState
from rapport.scheduling.services import video_url

logger = logging.getLogger("rapport.scheduling.mail")

# Sending one message takes seconds; a claim this old belongs to a worker that died.
STUCK_AFTER = timedelta(minutes=15)

_VERB = {
    NoticeKind.CONFIRMATION: "Confirmed",
    NoticeKind.CHANGE: "Changed",
    NoticeKind.CANCELLATION: "Cancelled",
    NoticeKind.REMINDER: "Reminder",
}


def notices_send_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send up to ``limit`` due PENDING notices, oldest first; return how many were sent.

    Safe to run from any number of workers at once (each row is claimed before it is sent). Run
    it outside a transaction, as the tasks do: each claim and each outcome must commit on its own.
    ``now`` pins the clock (tests); otherwise every step reads the current time.

    Stops early, leaving the rest PENDING, when the mail server cannot be reached.
    """
    clock = _clock(now)
    due = list(
        Notice.objects.filter(state=NoticeState.PENDING, due_at__lte=clock()).order_by("due_at", "id").values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for pk in due:
        outcome = notice_send(pk, now=now)
        if outcome == NoticeState.SENT:
            sent += 1
        elif outcome == NoticeState.PENDING:
            break  # the mail server is unreachable; the next run tries again
    return sent


def notice_send(notice_id: int, *, now: datetime | None = None) -> NoticeState | None:
    """Claim, check and send one notice; return the state it was left in.

    None means another worker had already claimed it (or it was no longer PENDING), so nothing
    was done. PENDING means the mail server could not be reached and the claim was released.
    """
    clock = _clock(now)
    claimed = Notice.objects.filter(pk=notice_id, state=NoticeState.PENDING).update(
        state=NoticeState.CLAIMED, claimed_at=clock(), updated_at=clock()
    )
    if claimed != 1:
        return None
    try:
        notice = Notice.objects.select_related(
            "participant__client", "appointment__service", "appointment__practice", "appointment__therapist__user"
        ).get(pk=notice_id)
        reason = _void_reason(notice, clock())
        email = notice_email(notice) if reason is None else None
    except Exception as exc:
        # A bug or bad data in one row must not hold up the others behind it.
        logger.exception("notice #%s could not be prepared", notice_id)
        return _finish(notice_id, NoticeState.FAILED, clock, error=f"render: {_short_error(exc)}")
    if email is None:
        logger.info("notice %s not sent: %s", notice.public_id, reason)
        return _finish(notice_id, NoticeState.VOID, clock)
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:
        # No connection, so certainly nothing was sent: the one case in which the row may go back.
        logger.warning("mail server unreachable (%s); notice %s left for the next run", _short_error(exc), notice.public_id)
        Notice.objects.filter(pk=notice_id, state=NoticeState.CLAIMED).update(
            state=NoticeState.PENDING, claimed_at=None, updated_at=clock()
        )
        return NoticeState.PENDING
    try:
        accepted = connection.send_messages([email])
    except Exception as exc:
        logger.warning("notice %s failed: %s", notice.public_id, _short_error(exc))
        return _finish(notice_id, NoticeState.FAILED, clock, error=_short_error(exc))
    finally:
        _close_quietly(connection)
    if not accepted:
        logger.warning("notice %s failed: the mail backend accepted no message", notice.public_id)
        return _finish(notice_id, NoticeState.FAILED, clock, error="not accepted")
    # The Message-ID carries the public id, so this line can be matched with the mail server's log.
    logger.info("notice %s sent (%s)", notice.public_id, notice.kind)
    return _finish(notice_id, NoticeState.SENT, clock)


def notices_stuck(now: datetime | None = None) -> int:
    """Count (and log) notices claimed more than ``STUCK_AFTER`` ago and never finished.

    They are never retried automatically: the worker may have died after the mail server took
    the message. Someone should check the mail server's log, then set each row to SENT, or back
    to PENDING to send it again.
    """
    now = now or timezone.now()
    count = Notice.objects.filter(state=NoticeState.CLAIMED, claimed_at__lt=now - STUCK_AFTER).count()
    if count:
        logger.warning(
            "%d appointment email(s) claimed over %d minutes ago were never finished; they are not resent automatically",
            count,
            int(STUCK_AFTER.total_seconds() // 60),
        )
    return count


def notice_email(notice: Notice) -> EmailMessage:
    """The email for one notice, ready for any Django mail backend. Reads only; sends nothing."""
    appointment = notice.appointment
    practice = appointment.practice
    therapist = appointment.therapist
    participant = notice.participant
    if participant is not None:
        zone = first_known_zone(participant.time_zone, therapist.time_zone, practice.time_zone)
        link = settings.SITE_URL + reverse("site:booking_manage", kwargs={"token": participant.token})
        greeting = greeting_name(participant.name)
    else:
        zone = first_known_zone(therapist.time_zone, practice.time_zone)
        link = settings.SITE_URL + reverse("workspace:appointment_detail", kwargs={"appointment_id": appointment.public_id})
        greeting = greeting_name(therapist.display_name)
    people = " & ".join(initials(p.name) for p in appointment.participants.filter(revoked_at__isnull=True) if p.name.strip())
    start = appointment.start.astimezone(zone)
    end = appointment.end.astimezone(zone)
    kind = NoticeKind(notice.kind)
    view = _View(
        kind=kind.value,
        for_client=participant is not None,
        greeting_name=greeting,
        service=appointment.service.name,
        therapist=therapist.display_name,
        people=people,
        practice=practice.name,
        when=f"{dateformat.format(start, 'l j F Y, H:i')} to {dateformat.format(end, 'H:i')} ({zone.key})",
        is_online=appointment.service.is_online,
        video_url=(video_url(appointment) or "") if appointment.service.is_online else "",
        link=link,
        message=notice.message.strip(),
        crisis_resources=_crisis_resources(practice.crisis_resources)
        if participant is not None and kind == NoticeKind.CONFIRMATION
        else [],
        has_invite=kind != NoticeKind.REMINDER,
        reply_to=practice.contact_email,
    )
    if participant is not None:
        what = f"{appointment.service.name} with {therapist.display_name}"
    else:
        what = f"{appointment.service.name} ({people})" if people else appointment.service.name
    moment = f"{dateformat.format(start, 'D j M, H:i')} ({zone.key})"
    subject = f"{_VERB[kind]}: {what}, now {moment}" if kind == NoticeKind.CHANGE else f"{_VERB[kind]}: {what} on {moment}"
    body = render_to_string("emails/appointment_notice.txt", {"n": view})
    email = EmailMessage(
        subject=subject,
        body=_tidy(body),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notice.recipient_email],
        reply_to=[practice.contact_email] if practice.contact_email else None,
        headers={
            # RFC 3834: an automatic message; well-behaved autoresponders stay quiet.
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            # One id per outbox row: if an operator ever resends a stuck row, mail clients can tell.
            "Message-ID": f"<{notice.public_id}@{_mail_domain()}>",
        },
    )
    if view.has_invite:
        method: Method = "CANCEL" if kind == NoticeKind.CANCELLATION else "REQUEST"
        invite = appointment_invite(appointment, method=method, site_url=link, video_url=view.video_url or None)
        email.attach("invite.ics", invite.decode("utf-8"), f"text/calendar; method={method}")
    return email


@dataclass(frozen=True)
class _View:
    """What the template may show: plain strings, decided here, so nothing else leaks into it."""

    kind: str
    for_client: bool
    greeting_name: str
    service: str
    therapist: str
    people: str
    practice: str
    when: str
    is_online: bool
    video_url: str
    link: str
    message: str
    crisis_resources: list[dict[str, str]]
    has_invite: bool
    reply_to: str


def _void_reason(notice: Notice, now: datetime) -> str | None:
    appointment: Appointment = notice.appointment
    if notice.participant is not None and notice.participant.revoked_at is not None:
        return "the recipient was removed from the appointment"
    if notice.kind == NoticeKind.CANCELLATION:
        return None
    if appointment.status == AppointmentStatus.CANCELLED:
        return "the appointment was cancelled"
    if notice.sequence < appointment.sequence:
        return "a later change superseded it"
    if notice.kind == NoticeKind.REMINDER and (appointment.status != AppointmentStatus.BOOKED or appointment.start <= now):
        return "the session has already started"
    if notice.kind == NoticeKind.REMINDER and _reminders_withdrawn(notice):
        return "the client withdrew email reminders"
    return None


EMAIL_REMINDERS = "email_reminders"


def _reminders_withdrawn(notice: Notice) -> bool:
    """Whether the participant's client has said no to email reminders.

    Only an explicit "no" stops a reminder. A client who has not signed a consent form yet (every
    client booked before consents existed, or whose first session comes before the form) keeps
    getting them: reminders were the practice's practice before they were an item, and a silent
    stop would surprise people into missing sessions. Confirmations, changes and cancellations
    are not reminders and always go. Consultations have no client, so nothing to consult.
    """
    client = notice.participant.client if notice.participant is not None else None
    if client is None:
        return False
    if not ItemDecision.objects.filter(client=client, item_key=EMAIL_REMINDERS).exists():
        return False
    return not consent_granted(client, EMAIL_REMINDERS)


def _finish(notice_id: int, state: NoticeState, clock: Callable[[], datetime], *, error: str = "") -> NoticeState:
    fields: dict[str, object] = {"state": state, "updated_at": clock(), "error": error[:300]}
    if state == NoticeState.SENT:
        fields["sent_at"] = clock()
    Notice.objects.filter(pk=notice_id, state=NoticeState.CLAIMED).update(**fields)
    return state


def _clock(now: datetime | None) -> Callable[[], datetime]:
    return (lambda: now) if now is not None else timezone.now


def _crisis_resources(resources: object) -> list[dict[str, str]]:
    if not isinstance(resources, list):
        return []
    return [
        {key: str(item.get(key) or "") for key in ("name", "contact", "note")}
        for item in resources
        if isinstance(item, dict) and (item.get("name") or item.get("contact"))
    ]


def _short_error(exc: BaseException) -> str:
    # The exception's type and the SMTP code say what went wrong; the server's text may quote
    # addresses or the message, so it stays out of the row and the log.
    code = getattr(exc, "smtp_code", None)
    if code is None and isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = ",".join(sorted({str(reply[0]) for reply in exc.recipients.values()}))
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


def _close_quietly(connection: BaseEmailBackend) -> None:
    try:
        connection.close()
    except Exception as exc:
        # The message was handed over (or not) before QUIT; a failing QUIT changes neither.
        logger.warning("closing the mail connection failed: %s", _short_error(exc))


def _mail_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "rapport.invalid"


def _tidy(text: str) -> str:
    # Template tags on lines of their own leave blank lines behind; one blank line between
    # paragraphs reads best in every mail client.
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# --- What an operator does about rows the worker would not finish -------------------------------------


def notices_needing_a_person(now: datetime | None = None) -> list[Notice]:
    """FAILED rows, and CLAIMED rows older than ``STUCK_AFTER``: nothing sends these again by itself."""
    now = now or timezone.now()
    stuck = Q(state=NoticeState.CLAIMED, claimed_at__lt=now - STUCK_AFTER)
    return list(Notice.objects.filter(Q(state=NoticeState.FAILED) | stuck).select_related("appointment").order_by("due_at", "id"))


@transaction.atomic
def notice_requeue(*, notice: Notice, claimed_too: bool = False) -> Notice:
    """Put a FAILED row (or, with ``claimed_too``, a stuck CLAIMED one) back to PENDING for the next run.

    A stuck CLAIMED row may already be in the recipient's mailbox: requeue it only after the mail
    server's log shows it was not delivered.
    """
    allowed = {NoticeState.FAILED, NoticeState.CLAIMED} if claimed_too else {NoticeState.FAILED}
    changed = Notice.objects.filter(pk=notice.pk, state__in=allowed).update(
        state=NoticeState.PENDING, claimed_at=None, error="", updated_at=timezone.now()
    )
    if not changed:
        raise ValidationError(
            f"Notice {notice.public_id} is {notice.get_state_display().lower()}; only a failed one"
            + (" or one being sent" if claimed_too else " (or, with --claimed-too, one stuck being sent)")
            + " can be sent again."
        )
    _audit_operator(notice, "requeued")
    notice.refresh_from_db()
    return notice


@transaction.atomic
def notice_mark_sent(*, notice: Notice) -> Notice:
    """Record a stuck CLAIMED row as SENT, once the mail server's log shows it was delivered."""
    changed = Notice.objects.filter(pk=notice.pk, state=NoticeState.CLAIMED).update(state=NoticeState.SENT, sent_at=timezone.now())
    if not changed:
        raise ValidationError(f"Notice {notice.public_id} is {notice.get_state_display().lower()}; only one being sent can be marked sent.")
    _audit_operator(notice, "marked_sent")
    notice.refresh_from_db()
    return notice


def _audit_operator(notice: Notice, change: str) -> None:
    audit_record(
        actor=None,
        action=Action.UPDATE,
        object_type="scheduling.notice",
        object_id=notice.public_id,
        practice_id=notice.appointment.practice.public_id,
        detail={"fields": [change]},
    )
