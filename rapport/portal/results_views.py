"""The client's own check-in results: a chart, a table and plain words per questionnaire.

Only the signed-in client's own results, from every course of therapy they are in: a partner of a
couple sees their own answers and never the other partner's (ARCHITECTURE.md, visibility rules).
The page takes no id, so there is nothing to guess. Reading it is audited as a read of the client's
scores (``rapport.measures.series.client_results_read``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from rapport.accounts.decorators import role_required
from rapport.accounts.models import Role
from rapport.measures.series import client_results_read
from rapport.portal.me import signed_in_client
from rapport.reports.results import client_results


@require_safe
@role_required([Role.CLIENT])
def results(request: HttpRequest) -> HttpResponse:
    user, client = signed_in_client(request)
    zone = client.time_zone or client.practice.time_zone
    views = client_results(client_results_read(user=user, client=client, request=request), ZoneInfo(zone))
    return render(request, "portal/results.html", {"results": views, "zone": zone})
