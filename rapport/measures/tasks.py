"""Background work for check-ins: creating and inviting them, the risk alert's emails, and expiry."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from rapport.measures.alerts import alert_notify, alerts_escalate
from rapport.measures.invitations import checkins_issue, invitations_send_due, reminders_send_due
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


# Creation, invitations and reminders in one sweep, in that order, so a check-in created now is
# invited in the same run (rapport.measures.invitations). Each step reads the clock afresh: the
# emails of a long run are judged by the time they are sent.
@db_periodic_task(crontab(minute="*/5"))
def checkins_sweep_task() -> int:
    checkins_issue(now=timezone.now())
    return invitations_send_due(now=timezone.now()) + reminders_send_due(now=timezone.now())


@db_task()
def check_ins_paused_notify_task(decision_id: int) -> int:
    return pause_notify(decision_id)
