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


def events_about_client(client_public_id: Any, *, excluding_actor: Any) -> QuerySet[AuditEvent]:
    """Every event recorded against this client's record except the ones they caused, newest first.

    Events are written once per client (a couple's joint case gets one row for each partner), so
    filtering on the client's own id is what keeps one partner's items out of the other's list.
    Events without an actor (the system, a booking link) stay in: they are not the client's own.
    """
    return events_on_record(client_public_id).exclude(actor=excluding_actor)


def events_on_record(client_public_id: Any) -> QuerySet[AuditEvent]:
    """Every event recorded against this client's record, the client's own included, newest first.

    The therapist's view of the record's audit: as with ``events_about_client``, a couple's
    partners each have their own rows, so one partner's list never holds the other's events.
    """
    return AuditEvent.objects.filter(client_id=client_public_id).select_related("actor").order_by("-id")
