"""The supervisor's pages: their supervisees' cases that consent to supervision, without names.

The consent item says "without my name or details that identify me", so these pages show a case
by its pseudonym (``Case.pseudonym``), its kind, status and dates, and counts: never a client's
name, email, the therapist's summary or any other free text. Which cases appear, and whether one
opens, is decided by the case selectors (``rapport.clients.selectors``): a supervisor of the case's
therapist without the clients' consent gets 403, anyone else's case is 404. Withdrawing consent
takes effect on the next request, since nothing here is cached.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role
from rapport.clients.models import Case
from rapport.clients.selectors import case_members, case_read_for_user, cases_visible_to
from rapport.consents.selectors import granted_since
from rapport.consents.services import SUPERVISION
from rapport.insights.selectors import signals_of
from rapport.practice.models import Therapist
from rapport.practice.selectors import supervisees_of
from rapport.scheduling.selectors import SessionCounts, case_session_counts
from rapport.workspace.signal_views import signal_card


@dataclass(frozen=True)
class Supervisee:
    therapist: Therapist
    cases: list[Case]


@require_safe
@role_required([Role.SUPERVISOR])
def supervision(request: HttpRequest) -> HttpResponse:
    """Each supervisee, with their cases whose clients consent to supervision (two queries)."""
    user = signed_in_user(request)
    # Only the columns the page shows: the clients and the summary are never loaded here.
    cases = cases_visible_to(user).only("public_id", "kind", "status", "opened_at", "primary_therapist_id").order_by("-opened_at", "id")
    by_therapist: dict[int, list[Case]] = {}
    for case in cases:
        by_therapist.setdefault(case.primary_therapist_id, []).append(case)
    supervisees = [Supervisee(therapist=t, cases=by_therapist.get(t.pk, [])) for t in supervisees_of(user)]
    zone = user.practice.time_zone if user.practice is not None else "UTC"
    return render(request, "workspace/supervision.html", {"supervisees": supervisees, "zone": zone})


@dataclass(frozen=True)
class SupervisedCase:
    """What the supervisor's case page may show, decided here so the template cannot reach a name."""

    public_id: uuid.UUID
    pseudonym: str
    kind: str
    status: str
    opened_at: datetime
    closed_at: datetime | None
    therapist: str
    clients: int
    consent_since: datetime | None
    sessions: SessionCounts


@require_safe
@role_required([Role.SUPERVISOR])
def supervision_case(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """One supervised case, de-identified; opening it is recorded in each client's "who opened my record"."""
    user = signed_in_user(request)
    case = case_read_for_user(user, case_id, request=request)
    clients = [member.client for member in case_members(case)]
    # The case opened because every client consents now; supervision of the case holds since the
    # last of them began to consent.
    since = [granted_since(client, SUPERVISION) for client in clients]
    view = SupervisedCase(
        public_id=case.public_id,
        pseudonym=case.pseudonym,
        kind=case.get_kind_display(),
        status=case.get_status_display(),
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        therapist=case.primary_therapist.display_name,
        clients=len(clients),
        consent_since=max((s for s in since if s is not None), default=None),
        sessions=case_session_counts(case, now=timezone.now()),
    )
    # The signals, as the therapist has them, without names: partners by their order in the case.
    # The read of the case above is the page's one audited read (each client's "who opened my record").
    signals = signals_of(case)
    labels = {member.client_id: (f"Partner {member.position}" if len(clients) > 1 else "The client") for member in case_members(case)}
    cards = [
        signal_card(s, about=labels.get(s.client_id, "Both partners") if s.client_id else "Both partners", with_words=False)
        for s in signals
    ]
    context = {"case": view, "signal_cards": cards}
    with timezone.override(ZoneInfo(case.practice.time_zone)):
        return render(request, "workspace/supervision_case.html", context)
