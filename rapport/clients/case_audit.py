from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.models import Case


def case_audit(
    *,
    actor: Any,
    action: Action,
    case: Case,
    request: HttpRequest | None = None,
    fields: list[str] | None = None,
    object_type: str = "clients.case",
    object_id: Any = None,
) -> None:
    """Record one event per client of the case, so each partner's "who opened my record" is complete.

    The object is the case itself unless another object of the case (an appointment, say) is named.

    A partner reading the joint case is the exception: the event is recorded against the reader's
    own record only. Joint material is theirs too, and listing every time one partner opened it in
    the other's "who opened my record" would let one partner watch the other's use of the portal.
    Changes a partner makes are still listed for both: they alter what both of them see.

    Runs in the caller's transaction when there is one; otherwise in one short transaction of its
    own (on SQLite one write lock for both partners, not two).
    """
    detail = {"fields": fields} if fields else None
    members = case.members.order_by("position")
    if action == Action.VIEW and getattr(actor, "pk", None) is not None:
        own = members.filter(client__user_id=actor.pk)
        if own.exists():
            members = own
    with transaction.atomic():
        for client_public_id in members.values_list("client__public_id", flat=True):
            audit_record(
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id if object_id is not None else case.public_id,
                practice_id=case.practice.public_id,
                client_id=client_public_id,
                request=request,
                detail=detail,
            )
