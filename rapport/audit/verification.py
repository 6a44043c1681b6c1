"""Reading the stored chain fast enough to verify a million events in seconds (RELIABILITY target 19).

Rows are read with a plain cursor in id order, in batches, and turned into the chain's canonical
strings with string operations: no model instances, and no UUID or datetime objects either (SQLite
hands back the text it stores; PostgreSQL is asked for text).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from django.db import connection

from rapport.audit.chain import ChainedEvent, VerifyResult, verify

# The table name is fixed by the model; no part of this statement comes from input.
_COLUMNS_AFTER_TIME = "actor_id, actor_role, action, practice_id, client_id, object_type, object_id, ip_address, detail, prev_hash, hash"
_SELECT = f"SELECT id, public_id, occurred_at, {_COLUMNS_AFTER_TIME} FROM audit_auditevent WHERE id > %s ORDER BY id LIMIT %s"  # noqa: S608
# On SQLite, `|| ''` hands the stored text back untouched, skipping the slow datetime converter.
_SELECT_SQLITE = _SELECT.replace("occurred_at,", "occurred_at || '',", 1)
# On PostgreSQL the server writes ids and times in the chain's own text forms (utc_iso: UTC,
# microseconds, "+00:00"), which costs it far less than building UUID and datetime objects costs us.
_SELECT_POSTGRESQL = (
    _SELECT.replace("public_id,", "public_id::text,", 1)
    .replace("occurred_at,", """to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),""", 1)
    .replace("practice_id, client_id,", "practice_id::text, client_id::text,", 1)
    .replace("object_id,", "object_id::text,", 1)
)


def _uuid_from_sqlite(value: str | None) -> str | None:
    # Django keeps UUIDs on SQLite as 32 hex digits; the chain uses the dashed form.
    if value is None:
        return None
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


def _as_is(value: Any) -> Any:
    return value


def _time_from_sqlite(value: str) -> str:
    # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC; str() drops a zero microsecond part.
    if "." not in value:
        value += ".000000"
    return value.replace(" ", "T", 1) + "+00:00"


def _detail(value: Any) -> dict[str, object]:
    if isinstance(value, dict):
        return value
    if value is None or value == "{}":
        return {}
    decoded = json.loads(value)
    return decoded if isinstance(decoded, dict) else {"value": decoded}


def _stream(batch_size: int) -> Iterator[ChainedEvent]:
    as_uuid: Callable[[Any], str | None]
    as_time: Callable[[Any], str]
    if connection.vendor == "sqlite":
        select, as_uuid, as_time = _SELECT_SQLITE, _uuid_from_sqlite, _time_from_sqlite
    else:
        select, as_uuid, as_time = _SELECT_POSTGRESQL, _as_is, _as_is
    last_id = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(select, [last_id, batch_size])
            rows = cursor.fetchall()
        if not rows:
            return
        for (
            seq,
            public_id,
            occurred_at,
            actor_id,
            role,
            action,
            practice_id,
            client_id,
            object_type,
            object_id,
            ip,
            detail,
            prev,
            digest,
        ) in rows:
            yield ChainedEvent(
                seq,
                as_uuid(public_id),  # type: ignore[arg-type]
                as_time(occurred_at),
                actor_id,
                role,
                action,
                as_uuid(practice_id),
                as_uuid(client_id),
                object_type,
                as_uuid(object_id),
                ip,
                _detail(detail),
                prev,
                digest,
            )
        last_id = rows[-1][0]


def audit_chain_verify(*, anchor: str | None = None, batch_size: int = 5000) -> VerifyResult:
    """Check the whole chain, reading it in id order in batches (no long transaction held)."""
    return verify(_stream(batch_size), anchor=anchor, locate=_locate)


def _locate(digest: str) -> int | None:
    # Only called for a broken link, so the whole chain never has to be held in memory.
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM audit_auditevent WHERE hash = %s", [digest])
        row = cursor.fetchone()
    return None if row is None else int(row[0])
