"""rapport.core.statements: a per-request statement gives the rows a plain cursor gives, shows up in
Django's query log like any other, fails the way any other does, and on PostgreSQL is prepared
once per connection."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from rapport.core.statements import fetch_all
from tests.personas import World

pytestmark = pytest.mark.django_db

NAMES = "SELECT id, full_name FROM accounts_user WHERE practice_id = %s ORDER BY id"


def _prepared_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_rows_are_a_plain_cursors_and_the_query_is_logged(world: World):
    with connection.cursor() as cursor:
        cursor.execute(NAMES, [world.practice.pk])
        plain = cursor.fetchall()
    assert len(plain) >= 2
    with CaptureQueriesContext(connection) as captured:
        assert fetch_all(NAMES, [world.practice.pk]) == plain
        assert fetch_all(NAMES, [world.practice.pk]) == plain
    assert len(captured.captured_queries) == 2
    for query in captured.captured_queries:
        assert query["sql"].startswith("SELECT id, full_name FROM accounts_user WHERE practice_id = ")
        assert str(world.practice.pk) in query["sql"]


def test_on_postgresql_it_is_prepared_once_per_connection(world: World):
    fetch_all(NAMES, [world.practice.pk])
    if connection.vendor != "postgresql":
        # Python's sqlite3 keeps compiled statements by itself; there is nothing to look at.
        assert connection.vendor == "sqlite"
        return
    prepared = [text for text in _prepared_names() if "FROM accounts_user WHERE practice_id" in text]
    assert len(prepared) == 1
    # Run again with another value: the same prepared statement, no second one.
    fetch_all(NAMES, [world.practice.pk + 1000])
    assert len([text for text in _prepared_names() if "FROM accounts_user WHERE practice_id" in text]) == 1


def test_a_bad_statement_fails_as_any_query_does_and_the_connection_goes_on(world: World):
    # In a savepoint, as a failed query anywhere in a transaction needs on PostgreSQL.
    with pytest.raises(DatabaseError), transaction.atomic():
        fetch_all("SELECT no_such_column FROM accounts_user WHERE id = %s", [1])
    assert fetch_all(NAMES, [world.practice.pk])
