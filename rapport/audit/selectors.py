from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from rapport.audit.models import AuditEvent


def events_for_practice(practice: Any, *, action: str | None = None) -> QuerySet[AuditEvent]:
    """The practice's audit trail, newest first. ``action`` must already be an allowed choice."""
    events = AuditEvent.objects.filter(practice_id=practice.public_id).select_related("actor").order_by("-id")
    if action:
        events = events.filter(action=action)
    return events
