"""Reads for check-ins, scoped to the reader. Every read of answers is audited here, in one place."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.measures import instruments
from rapport.measures.alerts import may_handle
from rapport.measures.audit import administration_audit
from rapport.measures.models import Administration, RiskAlert


def alerts_open_for(user: User) -> QuerySet[RiskAlert]:
    """Alerts nobody has acknowledged that this user should act on, oldest first.

    A therapist: their own clients' alerts, and any escalated to them as the on-call therapist. A
    practice admin: alerts escalated to the practice's admins (no on-call therapist took them).
    Everyone else: none.
    """
    if not user.is_authenticated or user.practice_id is None:
        return RiskAlert.objects.none()
    base = RiskAlert.objects.filter(practice_id=user.practice_id, acknowledged_at__isnull=True).select_related(
        "client", "administration", "therapist"
    )
    if user.role == Role.THERAPIST:
        return base.filter(Q(therapist__user=user) | Q(escalated_to=user)).order_by("raised_at", "id")
    if user.role == Role.PRACTICE_ADMIN:
        return base.filter(escalated_at__isnull=False, escalated_to__isnull=True).order_by("raised_at", "id")
    return RiskAlert.objects.none()


def alert_get_for_user(user: Any, public_id: uuid.UUID | str) -> RiskAlert:
    """One alert for someone who may act on it; 404 for outsiders, 403 for insiders without the right.

    Outsiders are another practice, and a therapist who neither treats the client nor was given the
    alert. The practice admin and the supervisor of the practice are insiders (403) until the alert
    is escalated to them.
    """
    try:
        alert = RiskAlert.objects.select_related(
            "practice", "client", "case", "therapist", "administration", "acknowledged_by", "escalated_to"
        ).get(public_id=public_id)
    except (RiskAlert.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such alert") from None
    if not user.is_authenticated or user.practice_id != alert.practice_id:
        raise Http404("No such alert")
    if may_handle(user, alert):
        return alert
    if user.role == Role.THERAPIST:
        raise Http404("No such alert")
    raise PermissionDenied("This alert is for the client's therapist, or whoever it is escalated to.")


@dataclass(frozen=True)
class EvidenceLine:
    number: str
    question: str  # the item's wording from the instrument file (or its topic, when the wording is not shipped)
    answer: str | None  # the chosen option's label; None when the item was left unanswered


@dataclass(frozen=True)
class AlertEvidence:
    instrument_name: str
    answered_at: datetime  # when the answer that raised the alert was saved
    lines: list[EvidenceLine]


def alert_evidence_read(*, user: User, alert: RiskAlert, request: HttpRequest | None = None) -> AlertEvidence:
    """The risk items of the alert's check-in with the client's answers to them: a clinical read, audited.

    The caller has fetched ``alert`` through ``alert_get_for_user``; this reads only the risk items,
    in the instrument version the client answered.
    """
    administration = alert.administration
    answers = administration.answers or {}
    instrument = instruments.load(administration.instrument_key)
    lines = []
    for rule in instrument.risk:
        item = instrument.item(rule.item)
        value = answers.get(rule.item)
        label = next((option.label for option in item.options if option.value == value), None) if value is not None else None
        lines.append(EvidenceLine(number=item.number, question=item.text or item.topic or item.id, answer=label))
    administration_audit(
        administration, actor=user, action=Action.VIEW, request=request, fields=["answers"], items=[rule.item for rule in instrument.risk]
    )
    return AlertEvidence(instrument_name=instrument.name, answered_at=alert.raised_at, lines=lines)


def administration_answers_read(*, user: User, administration: Administration, request: HttpRequest | None = None) -> dict[str, Any]:
    """A check-in's answers, for the client who gave them or their case's therapist; audited.

    Anyone else, the other partner of a couple included, is refused: each partner's answers are
    theirs and their therapist's alone (ARCHITECTURE.md, visibility rules).
    """
    own = user.is_authenticated and administration.client.user_id == user.pk
    treating = user.is_authenticated and user.role == Role.THERAPIST and administration.case.primary_therapist.user_id == user.pk
    if not (own or treating):
        raise PermissionDenied("These answers belong to someone else.")
    answers = dict(administration.answers or {})
    administration_audit(administration, actor=user, action=Action.VIEW, request=request, fields=["answers"])
    return answers
