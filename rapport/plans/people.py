"""Who a plan's item concerns and who a user is in a case: shared by the services and the selectors."""

from __future__ import annotations

from typing import Any

from rapport.accounts.models import Role
from rapport.clients.models import Case, CaseMember, Client
from rapport.plans.models import ItemScope, PlanItem


def is_case_therapist(user: Any, case: Case) -> bool:
    return getattr(user, "role", None) == Role.THERAPIST and case.primary_therapist.user_id == user.pk


def client_in_case(user: Any, case: Case) -> Client | None:
    """The user's own client record if they are a client of this case, else None."""
    if getattr(user, "role", None) != Role.CLIENT:
        return None
    member = CaseMember.objects.select_related("client").filter(case=case, client__user_id=user.pk).first()
    return None if member is None else member.client


def concerned_clients(item: PlanItem, case: Case) -> list[Client]:
    """The clients an item concerns: its owner, or every client of the case for a joint item."""
    if item.scope == ItemScope.INDIVIDUAL:
        assert item.owner is not None
        return [item.owner]
    return [m.client for m in case.members.select_related("client").order_by("position")]
