from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role
from rapport.clients.selectors import case_members, case_read_for_user, cases_visible_to


@require_safe
@role_required([Role.CLIENT])
def home(request: HttpRequest) -> HttpResponse:
    cases = cases_visible_to(request.user).select_related("primary_therapist")
    return render(request, "portal/home.html", {"cases": cases, "practice": signed_in_user(request).practice})


@require_safe
@role_required([Role.CLIENT])
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = case_read_for_user(request.user, case_id, request=request)
    # Only the joint facts of a case: who is in it and with whom. The therapist's summary is not shown.
    return render(request, "portal/case_detail.html", {"case": case, "members": case_members(case)})
