"""Storing what the detectors found, and the therapist's acknowledge and resolve (docs/signals.md).

``signals_detect`` is idempotent: a finding whose key is already stored for the case adds nothing,
so the task may run as often as data arrives. Every write is audited in its transaction; the run's
read of each client's check-ins is audited as the system's.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.models import Case, CaseStatus
from rapport.clients.selectors import case_members
from rapport.insights import detectors as d
from rapport.insights.gather import Found, case_findings
from rapport.insights.models import DetectionRun, Signal, SignalStatus

logger = logging.getLogger(__name__)

MAX_NOTE = 500


def _evidence(finding: d.Finding) -> dict[str, Any]:
    return {
        "observations": [{"on": o.on.isoformat(), "value": o.value, "label": o.label} for o in finding.evidence],
        "rules": [{**asdict(rule), "parameters": [list(pair) for pair in rule.parameters]} for rule in finding.rules],
        "next_step": finding.next_step,
        "phrases": list(finding.phrases),
        "settled_on": finding.settled_on.isoformat() if finding.settled_on else None,
    }


def _audit(*, actor: User | None, action: Action, signal: Signal, fields: list[str]) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="insights.signal",
        object_id=signal.public_id,
        practice_id=signal.case.practice.public_id,
        client_id=signal.client.public_id if signal.client is not None else None,
        detail={"fields": fields, "kind": signal.kind},
    )


def _store(case: Case, item: Found) -> Signal | None:
    finding = item.finding
    if Signal.objects.filter(case=case, key=finding.key).exists():
        return None
    previous = (
        Signal.objects.filter(case=case, kind=finding.kind, topic=finding.topic, client=item.client, status=SignalStatus.RESOLVED)
        .order_by("-resolved_at", "-id")
        .first()
    )
    signal = Signal(
        practice_id=case.practice_id,
        case=case,
        client=item.client,
        kind=finding.kind,
        topic=finding.topic[:64],
        key=finding.key,
        severity=int(finding.severity),
        occurred_on=finding.on,
        summary=finding.summary,
        previous=previous,
    )
    signal.evidence = _evidence(finding)
    try:
        # A concurrent run may store the same key first; the constraint keeps one and this one yields.
        with transaction.atomic():
            signal.save()
    except IntegrityError:
        return None
    _audit(actor=None, action=Action.CREATE, signal=signal, fields=["summary", "evidence"])
    return signal


@transaction.atomic
def signals_detect(case: Case, *, now: datetime | None = None) -> list[Signal]:
    """Run every detector over the case and store what is new; return the new signals."""
    now = now or timezone.now()
    case = Case.objects.select_related("practice").get(pk=case.pk)
    for member in case_members(case):
        audit_record(
            actor=None,
            action=Action.VIEW,
            object_type="insights.detection",
            object_id=case.public_id,
            practice_id=case.practice.public_id,
            client_id=member.client.public_id,
            detail={"read": ["measures.administration", "plans.rating", "scheduling.appointment"]},
        )
    created = [signal for item in case_findings(case, now=now) if (signal := _store(case, item)) is not None]
    DetectionRun.objects.update_or_create(case=case, defaults={"ran_at": now})
    if created:
        logger.info("signals stored", extra={"case": str(case.public_id), "count": len(created)})
    return created


def signals_sweep(*, now: datetime | None = None) -> int:
    """The daily run over every active case: time alone can make a finding (a check-in that expired)."""
    now = now or timezone.now()
    count = 0
    for case in Case.objects.filter(status=CaseStatus.ACTIVE).order_by("id"):
        count += len(signals_detect(case, now=now))
    return count


def _for_update(actor: User, signal: Signal) -> Signal:
    signal = (
        Signal.objects.select_for_update(of=("self",))
        .select_related("case__practice", "case__primary_therapist", "client")
        .get(pk=signal.pk)
    )
    # Only the case's own therapist acts on its signals; a supervisor reads them.
    if actor.role != Role.THERAPIST or signal.case.primary_therapist.user_id != actor.pk:
        raise PermissionDenied("Only the case's therapist can acknowledge or resolve its signals.")
    return signal


@transaction.atomic
def signal_acknowledge(*, actor: User, signal: Signal) -> Signal:
    """The therapist has seen it. Acknowledging twice is refused with a message, changing nothing."""
    signal = _for_update(actor, signal)
    if signal.status != SignalStatus.NEW:
        raise ValidationError("This signal was already acknowledged.", code="not_new")
    signal.status = SignalStatus.ACKNOWLEDGED
    signal.acknowledged_at = timezone.now()
    signal.acknowledged_by = actor
    signal.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "updated_at"])
    _audit(actor=actor, action=Action.UPDATE, signal=signal, fields=["status"])
    return signal


@transaction.atomic
def signal_resolve(*, actor: User, signal: Signal, note: str) -> Signal:
    """Closed with a short note of what was done; a new signal is acknowledged on the way."""
    signal = _for_update(actor, signal)
    note = (note or "").strip()
    if not note:
        raise ValidationError("Please write a short note of what was done.", code="note_required")
    if len(note) > MAX_NOTE:
        raise ValidationError(f"Please keep the note to {MAX_NOTE} characters.", code="note_too_long")
    if signal.status == SignalStatus.RESOLVED:
        raise ValidationError("This signal was already resolved.", code="resolved")
    now = timezone.now()
    if signal.status == SignalStatus.NEW:
        signal.acknowledged_at, signal.acknowledged_by = now, actor
    signal.status = SignalStatus.RESOLVED
    signal.resolved_at, signal.resolved_by, signal.resolution_note = now, actor, note
    signal.save(
        update_fields=["status", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by", "resolution_note", "updated_at"]
    )
    _audit(actor=actor, action=Action.UPDATE, signal=signal, fields=["status", "resolution_note"])
    return signal
