"""Baseline tables that exist only in the benchmark database.

They live in an app registry of their own, so the project never sees them (no migration, nothing
in ``apps.get_models()``, so key rotation does not scan them). Each mirrors a real table's columns
and indexes minus the one feature being measured: the hash chain, or the encryption.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from django.apps.registry import Apps
from django.db import connection, models

_registry = Apps()


@cache
def unchained_event_model() -> Any:
    """``audit.AuditEvent`` without the chain. ``actor_id`` is an indexed integer, not a foreign key."""

    class UnchainedEvent(models.Model):
        id = models.BigAutoField(primary_key=True)
        public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
        occurred_at = models.DateTimeField()
        actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
        actor_role = models.CharField(max_length=32, blank=True)
        action = models.CharField(max_length=32)
        practice_id = models.UUIDField(null=True, blank=True, db_index=True)
        client_id = models.UUIDField(null=True, blank=True, db_index=True)
        object_type = models.CharField(max_length=64)
        object_id = models.UUIDField(null=True, blank=True)
        ip_address = models.GenericIPAddressField(null=True, blank=True)
        detail = models.JSONField(default=dict, blank=True)
        prev_hash = models.CharField(max_length=64)
        hash = models.CharField(max_length=64, unique=True)

        class Meta:
            apps = _registry
            app_label = "benchmarks"
            db_table = "bench_unchained_event"
            indexes = [models.Index(fields=["client_id", "-id"], name="bench_unchained_client_newest")]

        def __str__(self) -> str:
            return f"#{self.pk} {self.action} {self.object_type}"

    _create_table(UnchainedEvent)
    return UnchainedEvent


@cache
def plain_case_model() -> Any:
    """``clients.Case`` with a plain TextField summary; foreign keys as indexed integers."""

    class PlainCase(models.Model):
        id = models.BigAutoField(primary_key=True)
        public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
        created_at = models.DateTimeField(auto_now_add=True)
        updated_at = models.DateTimeField(auto_now=True)
        practice_id = models.BigIntegerField(db_index=True)
        kind = models.CharField(max_length=16)
        primary_therapist_id = models.BigIntegerField(db_index=True)
        status = models.CharField(max_length=16)
        opened_at = models.DateTimeField()
        closed_at = models.DateTimeField(null=True, blank=True)
        summary = models.TextField(blank=True)

        class Meta:
            apps = _registry
            app_label = "benchmarks"
            db_table = "bench_plain_case"
            indexes = [models.Index(fields=["practice_id", "primary_therapist_id", "status"], name="bench_plain_case_scope")]

        def __str__(self) -> str:
            return f"plain case {self.public_id}"

    _create_table(PlainCase)
    return PlainCase


def _create_table(model: type[models.Model]) -> None:
    with connection.schema_editor() as editor:
        editor.create_model(model)
