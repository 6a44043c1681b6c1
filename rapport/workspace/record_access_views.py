"""The therapist's view of who opened their clients' records: ARCHITECTURE.md "audit of my record".

Only the case's primary therapist reads it. The case is looked up through the door of every page
naming clients (``named_case_get``): another practice's case or another therapist's is 404, a
practice admin or a supervisor 403, consent to supervision or not.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES
from rapport.audit.selectors import events_on_record
from rapport.clients.models import Client
from rapport.clients.record_access import AccessRow, describe
from rapport.clients.selectors import case_members
from rapport.workspace.named_cases import named_case_get

# As on the client's own page (rapport.portal.views.RECORD_ACCESS_PER_PAGE).
RECORD_ACCESS_PER_PAGE = 25


@dataclass(frozen=True)
class ClientAccess:
    """One client's section of the page: their events, paged on their own."""

    client: Client
    anchor: str
    page: Page
    rows: list[AccessRow]
    newer_url: str | None = None
    older_url: str | None = None


def _page_param(number: int) -> str:
    return f"page{number}"


@require_safe
@role_required(STAFF_ROLES)
def case_record_access(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """Every event on the record of each client of the case, the clients' own included, newest first."""
    user = signed_in_user(request)
    # Deliberately not recorded as a read of the case (no ``request``): the page shows who did
    # what to which kind of item and when, never clinical text, and the way here is the case page,
    # whose opening is recorded. A read event for every look at this list would also fill the very
    # list it shows, and the clients' own pages, with the therapist checking the trail.
    case = named_case_get(user, case_id)
    if case.primary_therapist.user_id != user.pk:
        raise PermissionDenied("Only the case's therapist reads who opened its clients' records.")
    zone_name = case.primary_therapist.time_zone
    zone = ZoneInfo(zone_name)
    # A couple has one section per partner, each with its own page parameter, so paging through
    # one partner's events leaves the other's where it was.
    sections = []
    for number, member in enumerate(case_members(case), start=1):
        events = events_on_record(member.client.public_id)
        page = Paginator(events, RECORD_ACCESS_PER_PAGE).get_page(request.GET.get(_page_param(number)))
        rows = [describe(event, zone, for_staff=True) for event in page]
        sections.append(ClientAccess(client=member.client, anchor=f"access-{number}", page=page, rows=rows))
    current = {_page_param(number): section.page.number for number, section in enumerate(sections, start=1)}

    def link(number: int, section: ClientAccess, page_number: int) -> str:
        return f"?{urlencode({**current, _page_param(number): page_number})}#{section.anchor}"

    linked = [
        replace(
            section,
            newer_url=link(number, section, section.page.previous_page_number()) if section.page.has_previous() else None,
            older_url=link(number, section, section.page.next_page_number()) if section.page.has_next() else None,
        )
        for number, section in enumerate(sections, start=1)
    ]
    return render(request, "workspace/case_record_access.html", {"case": case, "sections": linked, "zone": zone_name})
