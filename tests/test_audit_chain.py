from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.audit import services as audit_services
from rapport.audit.chain import GENESIS, ChainedEvent, canonical, event_hash, link_hash, utc_iso, verify
from rapport.audit.models import AuditEvent
from rapport.audit.services import Entry, audit_record, audit_record_many
from rapport.audit.verification import _stream, audit_chain_verify


def _chain(length: int) -> list[ChainedEvent]:
    events: list[ChainedEvent] = []
    previous = GENESIS
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for seq in range(1, length + 1):
        fields = {
            "public_id": f"00000000-0000-0000-0000-{seq:012d}",
            "occurred_at": utc_iso(start + timedelta(seconds=seq)),
            "actor_id": seq % 5 or None,
            "actor_role": "therapist",
            "action": random.choice(["view", "update", "create"]),
            "practice_id": None,
            "client_id": f"11111111-0000-0000-0000-{seq % 7:012d}",
            "object_type": "clients.case",
            "object_id": None,
            "ip_address": "127.0.0.1",
            "detail": {"fields": ["summary"]} if seq % 2 else {},
        }
        digest = link_hash(previous, canonical(**fields))
        events.append(ChainedEvent(seq=seq, prev_hash=previous, hash=digest, **fields))  # type: ignore[arg-type]
        previous = digest
    return events


def test_a_clean_chain_verifies():
    result = verify(_chain(50))
    assert result.ok
    assert result.checked == 50


def _tamper(events: list[ChainedEvent], rng: random.Random) -> tuple[str, list[ChainedEvent]]:
    kind = rng.choice(["edit", "delete", "insert", "reorder", "truncate_head"])
    events = list(events)
    i = rng.randrange(len(events) - 1)
    if kind == "edit":
        field = rng.choice(["action", "actor_id", "client_id", "occurred_at", "detail", "object_type"])
        original = events[i]
        new_value = {
            "action": "export" if original.action != "export" else "view",
            "actor_id": (original.actor_id or 0) + 1,
            "client_id": "22222222-0000-0000-0000-000000000000",
            "occurred_at": original.occurred_at.replace(".000000", ".000001"),
            "detail": {"fields": ["forged"]},
            "object_type": "clients.client",
        }[field]
        events[i] = original._replace(**{field: new_value})
    elif kind == "delete":
        del events[i]
    elif kind == "insert":
        forged = events[i]._replace(public_id="99999999-0000-0000-0000-000000000000")
        forged = forged._replace(hash=event_hash(forged))  # internally consistent, but not linked
        events.insert(i + 1, forged)
    elif kind == "reorder":
        events[i], events[i + 1] = events[i + 1], events[i]
    else:
        del events[0]
    return kind, events


def test_verify_catches_every_one_of_1000_random_tamperings():
    rng = random.Random(20261126)
    original = _chain(40)
    missed = []
    for _ in range(1000):
        kind, tampered = _tamper(original, rng)
        if verify(tampered).ok:
            missed.append(kind)
    assert missed == []


def test_removing_the_newest_events_is_caught_by_the_anchored_head():
    events = _chain(10)
    head = verify(events).head
    assert verify(events[:-1]).ok  # a shorter chain is self-consistent...
    result = verify(events[:-1], anchor=head)  # ...but no longer contains the anchor
    assert [p.kind for p in result.problems] == ["anchor_missing"]


def test_events_appended_after_the_anchor_are_fine():
    events = _chain(10)
    anchor = verify(events[:6]).head
    assert verify(events, anchor=anchor).ok


@settings(max_examples=50)
@given(st.integers(min_value=2, max_value=30), st.data())
def test_any_single_edit_is_named(length, data):
    events = _chain(length)
    index = data.draw(st.integers(min_value=0, max_value=length - 1))
    events[index] = events[index]._replace(action="forged")
    result = verify(events)
    assert [p.seq for p in result.problems if p.kind == "edited"] == [index + 1]


# --- On the real table, both databases -------------------------------------------------------------------


def _raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Simulate an attacker with owner rights: the append-only trigger has to be switched off
            # first (and pending deferred foreign-key checks fired, or ALTER TABLE refuses).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_append_only")


def _verify_command() -> str:
    from io import StringIO

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", stderr=err, stdout=StringIO())
    return err.getvalue()


def test_audit_verify_passes_on_a_clean_trail(world):
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert f"audit chain ok: {AuditEvent.objects.count()} events" in out.getvalue()


def test_audit_verify_names_an_edited_event(world):
    target = AuditEvent.objects.order_by("id")[5]
    _raw("UPDATE audit_auditevent SET action = 'export' WHERE id = %s", [target.pk])
    assert f"event #{target.pk} ({target.public_id}) was altered" in _verify_command()


def test_audit_verify_names_the_gap_left_by_a_deleted_event(world):
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    _raw("DELETE FROM audit_auditevent WHERE id = %s", [ids[4]])
    message = _verify_command()
    assert f"an event between #{ids[3]} and #{ids[5]} was deleted" in message


def test_audit_verify_names_two_swapped_events(world):
    first, second = AuditEvent.objects.order_by("id")[3:5]
    columns = [
        "public_id",
        "occurred_at",
        "actor_id",
        "actor_role",
        "action",
        "practice_id",
        "client_id",
        "object_type",
        "object_id",
        "ip_address",
        "detail",
        "prev_hash",
        "hash",
    ]
    # Swap the two rows' contents while keeping their ids (and so their order) in place.
    rows = {}
    with connection.cursor() as cursor:
        for event in (first, second):
            cursor.execute(f"SELECT {', '.join(columns)} FROM audit_auditevent WHERE id = %s", [event.pk])  # noqa: S608
            rows[event.pk] = cursor.fetchone()
    placeholders = ", ".join(f"{c} = %s" for c in columns)
    # hash and public_id are unique: park the first row on placeholder values during the swap.
    _raw(
        "UPDATE audit_auditevent SET hash = %s, public_id = %s WHERE id = %s", ["x" * 64, "00000000-0000-0000-0000-000000000001", first.pk]
    )
    _raw(f"UPDATE audit_auditevent SET {placeholders} WHERE id = %s", [*rows[first.pk], second.pk])  # noqa: S608
    _raw(f"UPDATE audit_auditevent SET {placeholders} WHERE id = %s", [*rows[second.pk], first.pk])  # noqa: S608
    message = _verify_command()
    assert f"event #{first.pk} ({second.public_id}) does not link to its predecessor" in message
    assert "reordered" in message


def test_application_code_cannot_change_or_delete_an_event(world):
    event = AuditEvent.objects.first()
    assert event is not None
    with pytest.raises(RuntimeError, match="append-only"):
        event.save()
    with pytest.raises(RuntimeError, match="append-only"):
        event.delete()


def test_a_raw_update_is_refused_on_postgresql_and_detected_on_sqlite(world):
    from django.db import DatabaseError

    if connection.vendor == "postgresql":
        for sql in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"):
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
        assert audit_chain_verify().ok
    else:
        # SQLite has no trigger (see the migration); the hash chain is what catches the change.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET action = 'x'")
        assert not audit_chain_verify().ok


def test_an_audit_row_holds_no_clinical_text(world):
    from rapport.clients.services import case_update_summary

    case_update_summary(actor=world.user("therapist_a"), case=world.individual_case, summary="Fictional words: lighthouse keeper")
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert event.detail == {"fields": ["summary"]}
    assert "lighthouse" not in str(AuditEvent.objects.values_list().order_by("-id")[0])


def _append_from_threads(append_one: Callable[[int, int], object], workers: int, rounds: int) -> None:
    """``append_one(worker, n)`` for n in range(rounds), from ``workers`` threads at once; then the whole chain must verify."""
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(rounds):
                append_one(worker, n)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = audit_chain_verify()
    assert result.ok, [p.message for p in result.problems]


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_linear_chain():
    _append_from_threads(
        lambda worker, n: audit_record(actor=None, action="view", object_type="test.concurrency", detail={"worker": worker, "n": n}),
        workers=4,
        rounds=15,
    )
    assert AuditEvent.objects.count() == 60


def test_the_fast_hash_path_matches_the_canonical_form():
    event = _chain(3)[2]
    fields = event._asdict()
    expected = link_hash(event.prev_hash, canonical(**{k: v for k, v in fields.items() if k not in {"seq", "prev_hash", "hash"}}))
    assert event_hash(event) == expected == event.hash


def _batch(worker: int, n: int, size: int) -> list[Entry]:
    return [Entry(action="view", object_type="test.batch", detail={"worker": worker, "n": n, "i": i}) for i in range(size)]


@pytest.mark.django_db
def test_a_batch_is_appended_in_order_and_verifies(world):
    before = AuditEvent.objects.count()
    events = audit_record_many(actor=world.user("therapist_a"), entries=_batch(0, 0, 5))
    stored = list(AuditEvent.objects.filter(object_type="test.batch").order_by("id"))
    assert [e.public_id for e in stored] == [e.public_id for e in events]
    assert [e.detail["i"] for e in stored] == [0, 1, 2, 3, 4]
    assert [e.prev_hash for e in stored[1:]] == [e.hash for e in stored[:-1]]
    assert {e.actor_id for e in stored} == {world.user("therapist_a").pk}
    assert audit_record_many(actor=None, entries=[]) == []
    assert AuditEvent.objects.count() == before + 5
    result = audit_chain_verify()
    assert result.ok, [p.message for p in result.problems]


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_keep_one_linear_chain():
    _append_from_threads(lambda worker, n: audit_record_many(actor=None, entries=_batch(worker, n, 3)), workers=4, rounds=8)
    assert AuditEvent.objects.count() == 96
    # Each batch's three events are consecutive: batches never interleave.
    details = list(AuditEvent.objects.order_by("id").values_list("detail", flat=True))
    for start in range(0, 96, 3):
        assert len({(d["worker"], d["n"]) for d in details[start : start + 3]}) == 1


@pytest.mark.django_db
def test_times_and_ids_read_back_in_the_chains_own_form(world, monkeypatch):
    """The verifier takes times and ids as text written by the database (PostgreSQL formats them;
    SQLite hands back what it stores): a time on a whole second, a time given in another zone, the
    last microsecond of a day, and every id set must all verify as appended."""
    moments = iter(
        [
            datetime(2026, 3, 29, 1, 0, 0, tzinfo=ZoneInfo("Europe/London")),
            datetime(2026, 11, 26, 23, 59, 59, 999999, tzinfo=ZoneInfo("Pacific/Kiritimati")),
            datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        ]
    )
    monkeypatch.setattr(audit_services, "timezone", SimpleNamespace(now=lambda: next(moments)))
    entry = Entry(
        action="view",
        object_type="test.forms",
        object_id=uuid.uuid4(),
        practice_id=world.practice.public_id,
        client_id=world.partner_a.public_id,
        detail={"fields": ["answers"], "count": 2},
    )
    audit_record_many(actor=world.user("therapist_a"), entries=[entry] * 3, request=RequestFactory().get("/"))
    result = audit_chain_verify()
    assert result.ok, [p.message for p in result.problems]
    # And a change to one of those texts is still caught.
    stored = AuditEvent.objects.filter(object_type="test.forms").order_by("id").first()
    assert stored is not None
    assert stored.occurred_at.microsecond == 0
    forged = [e._replace(occurred_at=e.occurred_at.replace(".000000", ".000001")) if e.seq == stored.pk else e for e in _stream(1000)]
    assert [p.seq for p in verify(forged).problems] == [stored.pk]
