"""What email an appointment change owes whom: the outbox rows, written in the change's own transaction.

Sending is the worker's business (``rapport.scheduling.mail``): it claims due rows one by one. Here
we only decide the rows, so a change that rolls back owes nobody anything, and a change that
commits cannot lose its emails to a worker that is down.

Who is told: every participant (each partner of a couple has their own row and link) and the
therapist, for a booking, a change and a cancellation. Reminders go to participants only, at the
practice's offsets before the start; a change re-plans them and a cancellation voids them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction

from rapport.scheduling.models import Appointment, Notice, NoticeKind, NoticeState

logger = logging.getLogger("rapport.scheduling")


def _key(appointment: Appointment, kind: str, recipient: str, detail: str = "") -> str:
    return f"{appointment.public_id}:{appointment.sequence}:{kind}:{recipient}:{detail}"


def notices_queue(*, appointment: Appointment, kind: NoticeKind, now: datetime, message: str = "") -> list[Notice]:
    """Queue the emails one event of the appointment owes; call inside the transaction that made the event.

    ``kind`` is CONFIRMATION, CHANGE or CANCELLATION. The appointment's SEQUENCE must already be
    the one this event gave it; queueing the same event twice is refused by the rows' unique key.
    """
    if kind == NoticeKind.REMINDER:
        raise ValueError("Reminders are planned by notices_queue itself, not queued directly.")
    if kind != NoticeKind.CONFIRMATION:
        # Reminders planned for an earlier time (or before a cancellation) must never go out.
        Notice.objects.filter(appointment=appointment, kind=NoticeKind.REMINDER, state=NoticeState.PENDING).update(
            state=NoticeState.VOID, updated_at=now
        )
    participants = list(appointment.participants.filter(revoked_at__isnull=True))
    rows = [
        Notice(
            appointment=appointment,
            participant=participant,
            kind=kind,
            key=_key(appointment, kind, f"p{participant.pk}"),
            recipient_email=participant.email,
            due_at=now,
            sequence=appointment.sequence,
            message=message,
        )
        for participant in participants
    ]
    rows.append(
        Notice(
            appointment=appointment,
            participant=None,
            kind=kind,
            key=_key(appointment, kind, "therapist"),
            recipient_email=appointment.therapist.user.email,
            due_at=now,
            sequence=appointment.sequence,
            message=message,
        )
    )
    if kind != NoticeKind.CANCELLATION:
        for hours in sorted(set(appointment.practice.reminder_offsets_hours or []), reverse=True):
            due = appointment.start - timedelta(hours=hours)
            if due <= now:
                continue  # a reminder that would already be late is not sent at all
            rows.extend(
                Notice(
                    appointment=appointment,
                    participant=participant,
                    kind=NoticeKind.REMINDER,
                    key=_key(appointment, NoticeKind.REMINDER, f"p{participant.pk}", f"{hours}h"),
                    recipient_email=participant.email,
                    due_at=due,
                    sequence=appointment.sequence,
                )
                for participant in participants
            )
    # One INSERT for all rows: this runs while a booking holds SQLite's write lock.
    Notice.objects.bulk_create(rows)
    transaction.on_commit(_wake_sender)
    return rows


def _wake_sender() -> None:
    # Imported late: the task module needs Huey configured, and this module must stay importable
    # by the benchmarks and pure tests without it.
    from rapport.scheduling.tasks import notices_send_now

    try:
        notices_send_now()
    except Exception:
        # The change has committed and its emails are safely in the outbox; the minute sweep
        # sends them if the queue (Redis, the Huey file) cannot take the task right now. A person
        # who just booked must not see an error for a booking that worked.
        logger.warning("could not enqueue the notice sender; the periodic sweep will send the emails", exc_info=True)
