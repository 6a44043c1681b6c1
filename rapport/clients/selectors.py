"""The one place that decides who may see which case (ARCHITECTURE.md, "Confidentiality first").

Outsiders (another practice, a therapist not treating, a client not in the case, a supervisor
who does not supervise the case's therapist) get 404, so a case's existence is not revealed.
Insiders of the practice whose role does not give access to clinical records get 403: the
practice admin always, and a supervisor of the case's therapist while any client of the case
does not consent to supervision (for a couple, both partners must: the joint material concerns
both). That consent is asked of ``rapport.clients.access``, where the consents app registers it.

A case returned to a supervisor is for the supervision pages, which show no names: a page that
names clients must not let the supervisor role in (``role_required``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from rapport.accounts.models import Role
from rapport.audit.models import Action
from rapport.clients.access import supervision_consented
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case, CaseMember, Client


def _user_practice_id(user: Any) -> int | None:
    return getattr(user, "practice_id", None) if user.is_authenticated else None


def cases_visible_to(user: Any) -> QuerySet[Case]:
    """Cases this user may open: their own as a client, their caseload as a therapist, and as a
    supervisor their supervisees' cases whose clients all consent to supervision."""
    practice_id = _user_practice_id(user)
    if practice_id is None:
        return Case.objects.none()
    base = Case.objects.filter(practice_id=practice_id)
    if user.role == Role.THERAPIST:
        return base.filter(primary_therapist__user=user)
    if user.role == Role.CLIENT:
        return base.filter(Q(members__client__user=user)).distinct()
    if user.role == Role.SUPERVISOR:
        return supervision_consented(_supervised_by(user, base))
    return Case.objects.none()


def _supervised_by(user: Any, cases: QuerySet[Case]) -> QuerySet[Case]:
    # One supervision row per (supervisor, therapist) pair, so the join never repeats a case.
    return cases.filter(primary_therapist__supervisions__supervisor=user)


def case_get_for_user(user: Any, public_id: uuid.UUID | str) -> Case:
    """One case if the user may see it; 404 for outsiders, 403 for insiders without the right."""
    try:
        case = Case.objects.select_related("practice", "primary_therapist").get(public_id=public_id)
    except (Case.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such case") from None
    return case_allowed_for_user(user, case)


def case_allowed_for_user(user: Any, case: Case) -> Case:
    """``case_get_for_user``'s rules for a case already read, with its practice and primary
    therapist, along with another object (an appointment, say): the case, or 404 or 403."""
    practice_id = _user_practice_id(user)
    if practice_id is None or case.practice_id != practice_id:
        raise Http404("No such case")
    if user.role == Role.THERAPIST:
        if case.primary_therapist.user_id != user.pk:
            raise Http404("No such case")
        return case
    if user.role == Role.CLIENT:
        if not CaseMember.objects.filter(case=case, client__user=user).exists():
            raise Http404("No such case")
        return case
    if user.role == Role.SUPERVISOR:
        supervised = _supervised_by(user, Case.objects.filter(pk=case.pk))
        if not supervised.exists():
            raise Http404("No such case")
        if not supervision_consented(supervised).exists():
            raise PermissionDenied("The clients of this case have not consented to supervision.")
        return case
    raise PermissionDenied("Your role does not give access to clinical records.")


def case_members(case: Case) -> QuerySet[CaseMember]:
    return case.members.select_related("client").order_by("position")


def case_read_for_user(user: Any, public_id: uuid.UUID | str, *, request: HttpRequest | None = None) -> Case:
    """Fetch a case for display and record the read against each client whose record it is."""
    case = case_get_for_user(user, public_id)
    case_audit(actor=user, action=Action.VIEW, case=case, request=request)
    return case


def client_of(user: Any) -> Client | None:
    """The signed-in client's own record, or None (not a client, or an account without a record yet)."""
    if not user.is_authenticated or user.role != Role.CLIENT:
        return None
    return Client.objects.select_related("practice").filter(user=user).first()
