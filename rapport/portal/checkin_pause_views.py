"""The client's control over check-ins: pause them, or resume them.

One page, on the signed-in client's own record only (no client id in the URL, so one partner of a
couple never reaches the other's choice). A pause is a consent choice recorded by
``rapport.measures.pausing``; it shows in the client's consent history like any other.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from rapport.accounts.decorators import role_required
from rapport.accounts.models import Role
from rapport.clients.models import Client
from rapport.consents.selectors import item_standing
from rapport.consents.services import CHECK_INS, item_asked_now
from rapport.measures.pausing import check_ins_pause, check_ins_resume
from rapport.portal.me import signed_in_client

UNKNOWN_ACTION = "Choose either to pause or to resume your check-ins."


def _page(request: HttpRequest, client: Client, *, error: str = "", status: int = 200) -> HttpResponse:
    standing = item_standing(client, CHECK_INS)
    context = {
        "client": client,
        "standing": standing,
        # Never deciding is not pausing (rapport.measures.services.check_ins_paused).
        "paused": standing is not None and not standing.granted,
        # A practice whose form predates the item has no choice to record (docs/checkins.md, Pausing).
        "asked": item_asked_now(client, CHECK_INS) is not None,
        "crisis_resources": client.practice.crisis_resources or [],
        "error": error,
    }
    return render(request, "portal/checkin_pause.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required([Role.CLIENT])
def checkin_pause(request: HttpRequest) -> HttpResponse:
    user, client = signed_in_client(request)
    if request.method != "POST":
        return _page(request, client)
    action = request.POST.get("action", "")
    if action not in ("pause", "resume"):
        return _page(request, client, error=UNKNOWN_ACTION, status=400)
    try:
        if action == "pause":
            check_ins_pause(actor=user, client=client)
        else:
            check_ins_resume(actor=user, client=client)
    except ValidationError as exc:
        # "Already paused" after a second click is not an error worth a red page; the rest is.
        if exc.code == "unchanged":
            messages.info(request, exc.messages[0])
            return HttpResponseRedirect(reverse("portal:checkin_pause"), status=303)
        return _page(request, client, error=exc.messages[0], status=400)
    if action == "pause":
        messages.success(request, "Check-ins are paused. Your therapist has been told. Nothing else about your care changes.")
    else:
        messages.success(request, "Check-ins are on again. New ones will come before and after your next sessions.")
    # 303: a reload shows the page instead of sending the choice twice.
    return HttpResponseRedirect(reverse("portal:checkin_pause"), status=303)
