"""Writing audit events. Call :func:`audit_record` inside the transaction of the write it describes."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from rapport.audit.chain import GENESIS, canonical, link_hash, utc_iso
from rapport.audit.models import Action, AuditEvent
from rapport.core.client_ip import client_ip

# Any fixed 64-bit number: the advisory lock that serialises appends to the chain on PostgreSQL.
# Without it concurrent appends fork the chain (RELIABILITY.md A5: 1,803 of 2,400 links broken).
_CHAIN_LOCK_KEY = 0x5241505041554454  # "RAPPAUDT"
_CHAIN_END = f"SELECT hash FROM {AuditEvent._meta.db_table} ORDER BY id DESC LIMIT 1"  # noqa: S608 - a constant table name


def _client_ip(request: HttpRequest | None) -> str | None:
    return None if request is None else client_ip(request)


def _as_uuid_str(value: uuid.UUID | str | None) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Entry:
    """One event to append, without its actor and request (which a batch shares)."""

    action: Action | str
    object_type: str
    object_id: uuid.UUID | str | None = None
    practice_id: uuid.UUID | str | None = None
    client_id: uuid.UUID | str | None = None
    detail: dict[str, Any] | None = None


def audit_record(
    *,
    actor: Any,
    action: Action | str,
    object_type: str,
    object_id: uuid.UUID | str | None = None,
    practice_id: uuid.UUID | str | None = None,
    client_id: uuid.UUID | str | None = None,
    request: HttpRequest | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain.

    Inside a service, this joins the service's transaction, so the write and its audit event
    commit or roll back together. Called on its own (a read in a view), it opens a short
    transaction of its own. ``detail`` must hold no clinical text: field names and counts only.
    """
    entry = Entry(action=action, object_type=object_type, object_id=object_id, practice_id=practice_id, client_id=client_id, detail=detail)
    return audit_record_many(actor=actor, entries=[entry], request=request)[0]


def audit_record_many(*, actor: Any, entries: Sequence[Entry], request: HttpRequest | None = None) -> list[AuditEvent]:
    """Append several events by one actor, in order, under one lock and one read of the chain's end.

    One page that reads a couple's record records one event per partner and per answer shown;
    taking the chain's lock once for all of them keeps that page cheap. Same transaction rules
    as :func:`audit_record`.
    """
    if not entries:
        return []
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    ip_address = _client_ip(request)
    events = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
            # On SQLite the IMMEDIATE transaction already holds the database's single write lock.
            # Plain SQL: every audited page asks this, and the ORM would spend longer building it than running it.
            cursor.execute(_CHAIN_END)
            row = cursor.fetchone()
        previous = row[0] if row is not None else GENESIS
        for entry in entries:
            practice_key, client_key, object_key = (
                _as_uuid_str(entry.practice_id),
                _as_uuid_str(entry.client_id),
                _as_uuid_str(entry.object_id),
            )
            event = AuditEvent(
                occurred_at=timezone.now(),
                actor=user,
                actor_role=getattr(user, "role", "") if user is not None else "system",
                action=str(entry.action),
                practice_id=practice_key,
                client_id=client_key,
                object_type=entry.object_type,
                object_id=object_key,
                ip_address=ip_address,
                detail=entry.detail or {},
                prev_hash=previous,
            )
            event.hash = link_hash(
                previous,
                canonical(
                    public_id=str(event.public_id),
                    occurred_at=utc_iso(event.occurred_at),
                    actor_id=user.pk if user is not None else None,
                    actor_role=event.actor_role,
                    action=event.action,
                    practice_id=practice_key,
                    client_id=client_key,
                    object_type=event.object_type,
                    object_id=object_key,
                    ip_address=event.ip_address,
                    detail=event.detail,
                ),
            )
            events.append(event)
            previous = event.hash
        # One INSERT, its rows in chain order: both databases number them in that order, and the
        # chain is verified in id order (tested on both, tests/test_audit_chain.py). Plain SQL, the
        # values prepared by the model's own fields: every audited page runs it, and bulk_create
        # spends three times as long building the statement as the database takes to run it.
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(len(events)), [_db_value(field, event) for event in events for field in _INSERTED])
            ids = [row[0] for row in cursor.fetchall()]
        for event, pk in zip(events, ids, strict=True):
            event.pk = pk
            event._state.adding = False
            event._state.db = connection.alias
    return events


# Every column but the id, which the database assigns.
_INSERTED = tuple(field for field in AuditEvent._meta.concrete_fields if not field.primary_key)


def _db_value(field: Any, event: AuditEvent) -> Any:
    return field.get_db_prep_save(getattr(event, field.attname), connection)


@functools.cache
def _insert_sql(rows: int) -> str:
    columns = ", ".join(connection.ops.quote_name(field.column) for field in _INSERTED)
    row = "(" + ", ".join(["%s"] * len(_INSERTED)) + ")"
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)} RETURNING {connection.ops.quote_name('id')}"  # noqa: S608 - names from the model
