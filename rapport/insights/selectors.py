"""Reading signals: the case's therapist and a supervisor with the clients' consent; never a client.

A client gets 404 for a case's signals, even their own case: Rapport never shows a client signal
language about themselves (docs/signals.md). Every read is audited against each client of the case.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest

from rapport.accounts.models import Role
from rapport.audit.models import Action
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case
from rapport.clients.selectors import case_get_for_user
from rapport.insights.models import DetectionRun, Signal, SignalStatus

OPEN = (SignalStatus.NEW, SignalStatus.ACKNOWLEDGED)


def _case_for_staff(user: Any, case_public_id: uuid.UUID | str) -> Case:
    if getattr(user, "role", None) == Role.CLIENT:
        raise Http404("No such case")
    return case_get_for_user(user, case_public_id)


def signals_of(case: Case) -> list[Signal]:
    """A case's signals, newest first. Unscoped and unaudited: for a page that already read the case
    through a scoped, audited selector (the supervision page); ``case_signals_read`` is the way in
    otherwise."""
    return list(
        Signal.objects.filter(case=case)
        .select_related("client", "acknowledged_by", "resolved_by", "previous")
        .order_by("-occurred_on", "-severity", "-id")
    )


def case_signals_read(user: Any, case_public_id: uuid.UUID | str, *, request: HttpRequest | None = None) -> tuple[Case, list[Signal]]:
    """The case and all its signals, newest first; audited as a read of each client's signals."""
    case = _case_for_staff(user, case_public_id)
    signals = signals_of(case)
    case_audit(actor=user, action=Action.VIEW, case=case, request=request, object_type="insights.signals", fields=["signals"])
    return case, signals


def signal_get_for_user(user: Any, case: Case, public_id: uuid.UUID | str) -> Signal:
    """One signal of a case the user may already see; 404 for a guessed or another case's id."""
    try:
        return Signal.objects.select_related("case__practice", "case__primary_therapist", "client").get(case=case, public_id=public_id)
    except (Signal.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such signal") from None


def open_signal_counts(cases: Sequence[Case]) -> dict[int, int]:
    """Open signals per case id, in one query: for badges, which carry a number and no clinical words."""
    counts: dict[int, int] = {}
    for case_id in Signal.objects.filter(case__in=list(cases), status__in=OPEN).values_list("case_id", flat=True):
        counts[case_id] = counts.get(case_id, 0) + 1
    return counts


def last_detection(case: Case) -> datetime | None:
    """When the detectors last ran over the case, or None if they never have."""
    return DetectionRun.objects.filter(case=case).values_list("ran_at", flat=True).first()
