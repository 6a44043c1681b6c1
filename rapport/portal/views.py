from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role, User
from rapport.audit.selectors import events_about_client
from rapport.clients.record_access import describe
from rapport.clients.selectors import case_members, case_read_for_user, cases_visible_to, client_of
from rapport.core.todo import todos_for
from rapport.scheduling.selectors import sessions_upcoming

RECORD_ACCESS_PER_PAGE = 25


@require_safe
@role_required([Role.CLIENT])
def home(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    client = client_of(user)
    cases = cases_visible_to(user).select_related("primary_therapist")
    if client is not None and client.practice_id == user.practice_id:
        # The page (its brand, the crisis resources) reads the account's practice: the client's
        # record brought that very row already, so it is not fetched a second time.
        User.practice.field.set_cached_value(user, client.practice)
    context = {
        "cases": cases,
        "practice": user.practice,
        "client": client,
        "sessions": sessions_upcoming(client, now=timezone.now()) if client is not None else [],
        "todos": todos_for(client) if client is not None else [],
    }
    return render(request, "portal/home.html", context)


@require_safe
@role_required([Role.CLIENT])
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_read_for_user(request.user, case_id, request=request)
    # Only the joint facts of a case: who is in it and with whom. The therapist's summary is not shown.
    return render(request, "portal/case_detail.html", {"case": case, "members": case_members(case)})


@require_safe
@role_required([Role.CLIENT])
def record_access(request: HttpRequest) -> HttpResponse:
    """Who opened or changed this client's record, newest first: the audit trail as its subject sees it."""
    user = signed_in_user(request)
    client = client_of(user)
    # A client account whose record is not linked yet has nothing recorded against it.
    events = events_about_client(client.public_id if client is not None else None, excluding_actor=user)
    zone = client.time_zone if client is not None else "UTC"
    page = Paginator(events, RECORD_ACCESS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [describe(event, ZoneInfo(zone)) for event in page]
    return render(request, "portal/record_access.html", {"page": page, "rows": rows, "zone": zone})
