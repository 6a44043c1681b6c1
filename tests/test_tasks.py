from __future__ import annotations

import logging
from datetime import timedelta

from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone

from rapport.accounts.tasks import expired_sessions_delete
from rapport.audit.models import AuditEvent
from rapport.audit.tasks import verify_and_anchor


def test_the_daily_check_logs_the_head_hash_as_an_anchor(world, caplog):
    with caplog.at_level(logging.INFO, logger="rapport.audit"):
        assert verify_and_anchor() is True
    head = AuditEvent.objects.order_by("-id").first().hash  # type: ignore[union-attr]
    assert f"head {head}" in caplog.text


def test_the_daily_check_reports_a_broken_chain(world, caplog):
    target = AuditEvent.objects.order_by("id")[2]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_append_only")
        cursor.execute("UPDATE audit_auditevent SET action = 'export' WHERE id = %s", [target.pk])
    with caplog.at_level(logging.INFO, logger="rapport.audit"):
        assert verify_and_anchor() is False
    assert f"event #{target.pk}" in caplog.text
    assert "BROKEN" in caplog.text


def test_expired_sessions_are_removed(db):
    live, stale = SessionStore(), SessionStore()
    live.create()
    stale.create()
    Session.objects.filter(session_key=stale.session_key).update(expire_date=timezone.now() - timedelta(minutes=1))
    assert expired_sessions_delete() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
