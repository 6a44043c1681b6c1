from __future__ import annotations

from collections.abc import Iterator

from rapport.audit.chain import ChainedEvent, VerifyResult, verify
from rapport.audit.models import AuditEvent

_FIELDS = (
    "id",
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
)


def _stream(batch_size: int) -> Iterator[ChainedEvent]:
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id").values_list(*_FIELDS)[:batch_size])
        if not rows:
            return
        for row in rows:
            (
                seq,
                public_id,
                occurred_at,
                actor_id,
                actor_role,
                action,
                practice_id,
                client_id,
                object_type,
                object_id,
                ip,
                detail,
                prev_hash,
                digest,
            ) = row
            yield ChainedEvent(
                seq=seq,
                public_id=str(public_id),
                occurred_at=occurred_at,
                actor_id=actor_id,
                actor_role=actor_role,
                action=action,
                practice_id=None if practice_id is None else str(practice_id),
                client_id=None if client_id is None else str(client_id),
                object_type=object_type,
                object_id=None if object_id is None else str(object_id),
                ip_address=ip,
                detail=detail,
                prev_hash=prev_hash,
                hash=digest,
            )
        last_id = rows[-1][0]


def audit_chain_verify(*, expected_head: str | None = None, batch_size: int = 5000) -> VerifyResult:
    """Check the whole chain, reading it in id order in batches (no long transaction held)."""
    return verify(_stream(batch_size), expected_head=expected_head)
