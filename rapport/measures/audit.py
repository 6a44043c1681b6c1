"""Every audit event about a check-in, recorded against the client who answered it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rapport.audit.models import Action
from rapport.audit.services import Entry, audit_record_many
from rapport.measures.models import Administration


def administration_audit_entry(administration: Administration, *, action: Action, **detail: Any) -> Entry:
    # ``detail`` names fields and choices only, never an answer: the trail must hold no clinical text.
    return Entry(
        action=action,
        object_type="measures.administration",
        object_id=administration.public_id,
        practice_id=administration.practice.public_id,
        client_id=administration.client.public_id,
        detail=detail or None,
    )


def administration_audit(
    administration: Administration, *, actor: Any, action: Action, request: HttpRequest | None = None, **detail: Any
) -> None:
    audit_record_many(actor=actor, entries=[administration_audit_entry(administration, action=action, **detail)], request=request)
