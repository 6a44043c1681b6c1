"""Background work for check-ins: the therapist's email about a risk alert, escalation, and expiry.

No task here creates administrations or invites a client: that comes with the check-in pages.
"""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from rapport.measures.alerts import alert_notify, alerts_escalate
from rapport.measures.pausing import pause_notify
from rapport.measures.services import administrations_expire


# A mail server that does not answer is tried again soon: this email is urgent. The claim in
# ``alert_notify`` keeps a retry from sending it twice.
@db_task(retries=5, retry_delay=30)
def alert_notify_task(alert_public_id: str) -> bool:
    return alert_notify(alert_public_id)


@db_periodic_task(crontab(minute="*"))
def alerts_escalate_task() -> int:
    return alerts_escalate()


@db_periodic_task(crontab(minute="*/5"))
def administrations_expire_task() -> int:
    return administrations_expire(now=timezone.now())


@db_task()
def check_ins_paused_notify_task(decision_id: int) -> int:
    return pause_notify(decision_id)
