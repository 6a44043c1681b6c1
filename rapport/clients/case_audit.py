from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest

from rapport.audit.models import Action
from rapport.audit.services import Entry, audit_record_many
from rapport.clients.models import Case, Client


def case_audit_entries(
    *,
    actor: Any,
    action: Action,
    case: Case,
    fields: list[str] | None = None,
    object_type: str = "clients.case",
    object_id: Any = None,
    clients: Sequence[Client] | None = None,
) -> list[Entry]:
    """The events :func:`case_audit` records, for a caller that records them with others in one batch.

    ``clients``: the case's clients, when the caller has already read them (saves a query).
    """
    detail = {"fields": fields} if fields else None
    # (public id, account) of each client, in the case's order: all an event needs.
    people: list[tuple[uuid.UUID, int | None]]
    if clients is None:
        people = list(case.members.order_by("position").values_list("client__public_id", "client__user_id"))
    else:
        people = [(client.public_id, client.user_id) for client in clients]
    if action == Action.VIEW and getattr(actor, "pk", None) is not None:
        own = [person for person in people if person[1] == actor.pk]
        if own:
            people = own
    return [
        Entry(
            action=action,
            object_type=object_type,
            object_id=object_id if object_id is not None else case.public_id,
            practice_id=case.practice.public_id,
            client_id=public_id,
            detail=detail,
        )
        for public_id, _user_id in people
    ]


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
    entries = case_audit_entries(actor=actor, action=action, case=case, fields=fields, object_type=object_type, object_id=object_id)
    audit_record_many(actor=actor, entries=entries, request=request)
