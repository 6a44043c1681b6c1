"""Constant SQL statements that run on (nearly) every request, planned once per connection.

PostgreSQL plans a statement each time it is sent; for a statement over a dozen tables planning
takes several times longer than running it (the briefing's version: 0.7-1.3 ms of planning, 0.15 ms
of execution). Sent as a server-side prepared statement it is planned once per connection and the
plan reused. Django's own cursors bind parameters on the client and never prepare (psycopg's
``ClientCursor``), so this module opens a server-binding cursor on the same connection for these
statements only, wrapped the way Django wraps its cursors (query logging, execute wrappers, error
translation). ``prepare_threshold`` in the PostgreSQL settings allows it (config/settings.py).

SQLite needs nothing of this: Python's sqlite3 keeps its compiled statements per connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (a constant; only ``params`` vary), prepared once per connection on PostgreSQL."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw: Any = _PreparingCursor(connection.connection)  # Django wraps DB-API cursors; its stubs name its own wrapper
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    log = connection.queries_log
    if connection.queries_logged and log and log[-1]["sql"] is None:
        # Django's query log reads the text back from the cursor, and a prepared statement's
        # execution carries only its name.
        operations: Any = connection.ops  # the PostgreSQL operations: compose_sql is theirs
        log[-1]["sql"] = operations.compose_sql(sql, params)
    return rows


class _PreparingCursor(psycopg.Cursor[Any]):
    """Binds on the server and asks for every statement it runs to be prepared."""

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None) -> Any:
        return super().execute(query, params, prepare=True, binary=binary)
