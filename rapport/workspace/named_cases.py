"""The door to every workspace page that names a case's clients."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from rapport.accounts.models import Role
from rapport.audit.models import Action
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case
from rapport.clients.selectors import case_allowed_for_user, case_get_for_user


def named_case_get(user: Any, case_id: uuid.UUID, *, request: HttpRequest | None = None) -> Case:
    """A case for a page that names its clients, recorded as a read when ``request`` is given.

    The selector answers first, so an outsider still gets 404. A supervisor never gets further
    (403), even with the clients' consent: supervision is without names, on its own pages
    (rapport.workspace.supervision_views).
    """
    return _named(user, case_get_for_user(user, case_id), request)


def named_case_of(user: Any, case: Case, *, request: HttpRequest | None = None) -> Case:
    """``named_case_get`` for a case that came with another object (an appointment's, read with
    its practice and primary therapist): the same rules, without reading the case again."""
    return _named(user, case_allowed_for_user(user, case), request)


def _named(user: Any, case: Case, request: HttpRequest | None) -> Case:
    if user.role == Role.SUPERVISOR:
        raise PermissionDenied("Supervisors see cases without names, on the supervision pages.")
    if request is not None:
        case_audit(actor=user, action=Action.VIEW, case=case, request=request)
    return case


def viewer_zone(user: Any, case: Case) -> str:
    """The time zone a named case page shows its dates in: the therapist's own, else the practice's."""
    therapist = getattr(user, "therapist", None)
    return therapist.time_zone if therapist is not None and therapist.time_zone else case.practice.time_zone
