"""The client's view of how their goals have moved (docs/gas.md, "Progress pages").

One page per case: the joint goals and the client's own, each with the client's own ratings and the
therapist's, as a chart, in words and as a table. Never the other partner's goals or ratings: the
selector leaves them out, and a case the client is not in is 404.
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role
from rapport.plans.progress import goal_progress_for_viewer
from rapport.reports.goal_progress import progress_page


@require_GET
@role_required([Role.CLIENT])
def case_goal_progress(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    progress = goal_progress_for_viewer(user, case_id, request=request)
    me = progress.viewer_client
    if me is None:
        raise Http404("No such case")
    zone = me.time_zone or progress.case.practice.time_zone
    context = {
        "case": progress.case,
        "couple": len(progress.members) > 1,
        "page": progress_page(progress, ZoneInfo(zone)),
        "zone": zone,
    }
    return render(request, "portal/goal_progress.html", context)
