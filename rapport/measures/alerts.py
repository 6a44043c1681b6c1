"""Risk answers reach a person at once: raising, notifying, escalating and acknowledging alerts.

The path (MEASURES.md §1.4 and §4.9: any positive answer on a risk item reaches a clinician at
once, whatever the total):

1. ``answers_save`` raises the alert in the transaction that stores the answer (``alert_raise``).
2. Once that commits, the Huey task ``alert_notify_task`` emails the case's therapist
   (``alert_notify``). The therapist's home page lists the alert until it is acknowledged.
3. Every minute ``alerts_escalate_task`` looks for alerts nobody acknowledged within the practice's
   ``risk_escalation_minutes`` and escalates each once: to the on-call therapist, or to every
   active practice admin when the practice has none (or the on-call therapist is the one who has
   not answered).
4. The therapist, or whoever it was escalated to, acknowledges it (``alert_acknowledge``).

No email carries anything clinical or any name: that something needs attention, and a link that
asks the reader to sign in. Sends are claimed with a conditional UPDATE first, so two workers
never send the same email; a send that fails gives its claim back for the task's retry.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.core.greeting import greeting_name
from rapport.measures.models import Administration, RiskAlert

logger = logging.getLogger("rapport.measures.alerts")

SUBJECT = "A check-in needs your attention"
SUBJECT_ESCALATED = "A check-in needs attention: not yet acknowledged"

_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def _audit(alert: RiskAlert, *, actor: User | None, action: Action, change: str) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="measures.riskalert",
        object_id=alert.public_id,
        practice_id=alert.practice.public_id,
        client_id=alert.client.public_id,
        detail={"fields": [change]},
    )


def alert_raise(*, administration: Administration, kind: str, actor: User | None, now: datetime) -> RiskAlert:
    """Create the administration's alert (inside the caller's transaction) and email the therapist once it commits."""
    case = administration.case
    alert = RiskAlert.objects.create(
        practice_id=administration.practice_id,
        administration=administration,
        client_id=administration.client_id,
        case=case,
        therapist_id=case.primary_therapist_id,
        kind=kind,
        raised_at=now,
    )
    _audit(alert, actor=actor, action=Action.CREATE, change=kind)
    alert_id = str(alert.public_id)
    transaction.on_commit(lambda: _queue_notify(alert_id))
    return alert


def _queue_notify(alert_id: str) -> None:
    # Imported late: the task module needs Huey configured.
    from rapport.measures.tasks import alert_notify_task

    try:
        alert_notify_task(alert_id)
    except Exception:
        # The alert is stored and on the therapist's home page, and escalation still runs: the
        # client's page must not fail because the queue did not answer.
        logger.exception("could not queue the email for risk alert %s", alert_id)


def alert_url(alert: RiskAlert) -> str:
    return settings.SITE_URL + reverse("workspace:alert_detail", kwargs={"alert_id": alert.public_id})


def _email(*, to: list[str], subject: str, template: str, context: dict[str, object]) -> EmailMessage:
    body = render_to_string(template, context)
    return EmailMessage(subject=subject, body=body.strip() + "\n", from_email=settings.DEFAULT_FROM_EMAIL, to=to, headers=_HEADERS)


def alert_notify(alert_public_id: str, *, now: datetime | None = None) -> bool:
    """Email the case's therapist about one alert, at most once; True when the mail server took it."""
    now = now or timezone.now()
    alert = RiskAlert.objects.select_related("therapist__user").filter(public_id=alert_public_id).first()
    if alert is None:
        return False
    user = alert.therapist.user
    if not user.is_active or not user.email:
        logger.warning("risk alert %s: the therapist cannot be emailed; it waits on escalation", alert.public_id)
        return False
    if RiskAlert.objects.filter(pk=alert.pk, notified_at__isnull=True).update(notified_at=now) != 1:
        return False
    message = _email(
        to=[user.email],
        subject=SUBJECT,
        template="emails/risk_alert.txt",
        context={"greeting_name": greeting_name(user.full_name), "link": alert_url(alert)},
    )
    try:
        sent = message.send()
    except Exception:
        # Give the claim back so the task's retry can send it.
        RiskAlert.objects.filter(pk=alert.pk, notified_at=now).update(notified_at=None)
        raise
    logger.info("risk alert %s: therapist emailed", alert.public_id)
    return sent == 1


def _escalation_target(alert: RiskAlert) -> tuple[User | None, list[User]]:
    """(the on-call therapist's account or None, the people to email)."""
    on_call = alert.practice.on_call_therapist
    if on_call is not None and on_call.is_active and on_call.user.is_active and on_call.pk != alert.therapist_id:
        return on_call.user, [on_call.user]
    admins = list(User.objects.filter(practice_id=alert.practice_id, role=Role.PRACTICE_ADMIN, is_active=True).order_by("id"))
    return None, admins


def alerts_due_for_escalation(now: datetime) -> list[RiskAlert]:
    """Open alerts not escalated yet whose practice's time to acknowledge has run out."""
    candidates = RiskAlert.objects.select_related("practice__on_call_therapist__user").filter(
        acknowledged_at__isnull=True, escalated_at__isnull=True
    )
    return [alert for alert in candidates if alert.raised_at + timedelta(minutes=alert.practice.risk_escalation_minutes) <= now]


def alerts_escalate(now: datetime | None = None) -> int:
    """Escalate every overdue alert once; return how many this call escalated.

    Each alert is claimed with a conditional UPDATE, so two sweeps running at once (two workers,
    or a slow run overlapping the next minute's) never escalate or email it twice. The emails go
    out after the claim commits; an alert whose email fails stays escalated and listed on the
    recipients' home pages.
    """
    now = now or timezone.now()
    escalated = 0
    for alert in alerts_due_for_escalation(now):
        target, recipients = _escalation_target(alert)
        with transaction.atomic():
            claimed = RiskAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True, escalated_at__isnull=True).update(
                escalated_at=now, escalated_to=target, updated_at=now
            )
            if claimed != 1:
                continue
            alert.escalated_at, alert.escalated_to = now, target
            _audit(alert, actor=None, action=Action.UPDATE, change="escalated")
        escalated += 1
        if not recipients:
            logger.error("risk alert %s escalated, but the practice has no active admin or on-call therapist to email", alert.public_id)
            continue
        messages = [
            _email(
                to=[person.email],
                subject=SUBJECT_ESCALATED,
                template="emails/risk_alert_escalated.txt",
                context={
                    "greeting_name": greeting_name(person.full_name),
                    "minutes": alert.practice.risk_escalation_minutes,
                    "link": alert_url(alert),
                },
            )
            for person in recipients
            if person.email
        ]
        try:
            sent = get_connection().send_messages(messages) or 0
        except Exception:
            logger.exception("risk alert %s escalated, but its email could not be sent", alert.public_id)
            continue
        logger.info("risk alert %s escalated: %d of %d email(s) sent", alert.public_id, sent, len(messages))
    return escalated


def may_handle(user: User, alert: RiskAlert) -> bool:
    """The case's therapist, or (once escalated) the on-call therapist or, without one, a practice admin."""
    if not user.is_authenticated or user.practice_id != alert.practice_id:
        return False
    if alert.therapist.user_id == user.pk:
        return True
    if alert.escalated_at is None:
        return False
    if alert.escalated_to_id is not None:
        return bool(alert.escalated_to_id == user.pk)
    return bool(user.role == Role.PRACTICE_ADMIN and user.is_active)


@transaction.atomic
def alert_acknowledge(*, actor: User, alert: RiskAlert, now: datetime | None = None) -> RiskAlert:
    """Record that someone has seen the alert and is acting on it; stops its escalation.

    Only the case's therapist or the person it was escalated to may. Acknowledging again changes
    nothing and records nothing: the first acknowledgement stands.
    """
    if not may_handle(actor, alert):
        raise PermissionError("Only the client's therapist, or the person this alert was escalated to, can acknowledge it.")
    now = now or timezone.now()
    claimed = RiskAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=actor, updated_at=now
    )
    alert.refresh_from_db(fields=["acknowledged_at", "acknowledged_by", "escalated_at", "escalated_to"])
    if claimed == 1:
        _audit(alert, actor=actor, action=Action.UPDATE, change="acknowledged")
    return alert
