"""The therapist's page for a case's measurement plan: which check-ins to ask before and after each session.

Reached through ``named_case_get`` like every page that names a case's clients: another practice's
case, or a case the therapist does not treat, is 404; a practice admin or supervisor, 403. Only the
case's therapist may change the plan (``plan_set`` refuses anyone else). A change applies to
check-ins created from then on; those already created keep their questions.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES
from rapport.clients.models import Case
from rapport.clients.selectors import case_members
from rapport.measures.models import Timing
from rapport.measures.plan_selectors import clients_paused, plan_choices, plan_current
from rapport.measures.services import plan_set
from rapport.workspace.named_cases import named_case_get

# More ticks than instruments times timings is not a form this page sent.
MAX_TICKS = 100


def _page(request: HttpRequest, case: Case, ticked: set[tuple[str, str]], *, error: str = "", status: int = 200) -> HttpResponse:
    current = plan_current(case)
    context = {
        "case": case,
        "members": case_members(case),
        "current": [c for c in plan_choices(current) if c.before or c.after],
        "choices": plan_choices(ticked),
        "paused": clients_paused(case),
        "may_change": case.primary_therapist.user_id == request.user.pk,
        "error": error,
    }
    return render(request, "workspace/measurement_plan.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(STAFF_ROLES)
def measurement_plan(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    if request.method != "POST":
        case = named_case_get(user, case_id, request=request)
        return _page(request, case, plan_current(case))

    case = named_case_get(user, case_id)
    if case.primary_therapist.user_id != user.pk:
        raise PermissionDenied("Only the therapist of this case can change its measurement plan.")
    before, after = request.POST.getlist("before"), request.POST.getlist("after")
    ticked = {(key, Timing.BEFORE.value) for key in before} | {(key, Timing.AFTER.value) for key in after}
    if len(before) + len(after) > MAX_TICKS:
        return _page(
            request, case, plan_current(case), error="That is more choices than this page offers. Nothing was changed.", status=400
        )
    try:
        plan_set(actor=user, case=case, entries=sorted(ticked))
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from None
    except ValidationError as exc:
        return _page(request, case, ticked, error=f"{exc.messages[0]} Nothing was changed.", status=400)
    if ticked:
        messages.success(request, "Plan saved. It applies to check-ins created from now on; those already sent keep their questions.")
    else:
        messages.success(request, "Plan saved: no check-ins will be asked for this case from now on. Those already sent stay as they are.")
    # 303: a reload shows the plan instead of saving it again.
    return HttpResponseRedirect(reverse("workspace:measurement_plan", kwargs={"case_id": case.public_id}), status=303)
