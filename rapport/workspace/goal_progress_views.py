"""The therapist's view of how a case's goals have moved (docs/gas.md, "Progress pages").

Reached through the same door as the plan page (``named_case_get``): the case's therapist reads it;
another therapist or practice gets 404; a practice admin or a supervisor 403. Every client's
ratings and the therapist's are shown, with the goal attainment T-score over time.
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES
from rapport.plans.progress import goal_progress_for_viewer
from rapport.reports.goal_progress import progress_page
from rapport.workspace.named_cases import named_case_get


@require_GET
@role_required(STAFF_ROLES)
def case_goal_progress(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    # The selector records the read (of the plan), so the door records none itself.
    case = named_case_get(user, case_id)
    progress = goal_progress_for_viewer(user, case.public_id, request=request)
    therapist = getattr(user, "therapist", None)
    zone = therapist.time_zone if therapist is not None and therapist.time_zone else case.practice.time_zone
    context = {"case": case, "members": progress.members, "page": progress_page(progress, ZoneInfo(zone)), "zone": zone}
    return render(request, "workspace/case_goal_progress.html", context)
