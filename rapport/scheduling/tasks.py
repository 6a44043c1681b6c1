"""Background sending of appointment emails (see ``rapport.scheduling.mail`` for the guarantees).

Two ways in, both draining the same outbox: ``notices_send_now`` right after a booking, change or
cancellation commits, so confirmations go out within seconds; and a sweep every minute, which
sends reminders as they fall due and picks up whatever the first missed (a consumer that was
down, a mail server that did not answer). Claims make running both at once harmless.
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from rapport.scheduling.mail import notices_send_due, notices_stuck


@db_task()
def notices_send_now() -> int:
    return notices_send_due()


@db_periodic_task(crontab(minute="*"))
def notices_sweep() -> int:
    notices_stuck(timezone.now())
    return notices_send_due()
