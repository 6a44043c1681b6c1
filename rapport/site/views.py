from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from rapport.practice.selectors import public_practice, services_offered, therapists_listed


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    practice = public_practice()
    if practice is None:
        return render(request, "site/not_set_up.html", status=503)
    context = {
        "practice": practice,
        "services": services_offered(practice),
        "therapists": therapists_listed(practice),
    }
    return render(request, "site/home.html", context)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers and operators: the process answers and the database responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
