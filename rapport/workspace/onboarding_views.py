"""The therapist's side of onboarding: inviting a case's clients to the portal, reading their intake.

Both pages look the case up as every page naming clients does (``named_case_get``): another practice's
case, or a case of another therapist, is 404; a practice admin or supervisor is 403. A client id
that is not a member of the case is 404 too, so ids cannot be mixed and matched.
"""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES
from rapport.clients.intake import FIELDS, intake_for_reader
from rapport.clients.models import CaseMember
from rapport.clients.onboarding import client_invite
from rapport.workspace.named_cases import named_case_get


@require_http_methods(["POST"])
@role_required(STAFF_ROLES)
def client_invite_view(request: HttpRequest, case_id: uuid.UUID, client_id: uuid.UUID) -> HttpResponse:
    """Send (or send again) one client's invitation to set up their portal account."""
    user = signed_in_user(request)
    case = named_case_get(user, case_id)
    member = CaseMember.objects.select_related("client").filter(case=case, client__public_id=client_id).first()
    if member is None:
        raise Http404("No such client in this case.")
    client = member.client
    try:
        issued = client_invite(actor=user, case=case, client=client)
    except PermissionError as exc:
        # A member of staff who may see the case but not invite (none today): refused, nothing sent.
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        zone = ZoneInfo(case.primary_therapist.time_zone)
        expires = issued.invitation.expires_at.astimezone(zone)
        messages.success(
            request,
            f"Invitation sent to {client.full_name} at {client.email}. The link works once, until "
            f"{expires:%A} {expires.day} {expires:%B %Y at %H:%M}; any earlier link no longer works.",
        )
    return HttpResponseRedirect(reverse("workspace:case_detail", kwargs={"case_id": case.public_id}) + "#portal-heading", status=303)


@require_safe
@role_required(STAFF_ROLES)
def client_intake(request: HttpRequest, case_id: uuid.UUID, client_id: uuid.UUID) -> HttpResponse:
    """One client's intake answers, for the therapist of their case; each opening is audited."""
    reading = intake_for_reader(signed_in_user(request), case_id, client_id, request=request)
    answers = []
    if reading.intake is not None:
        answers = [(label, getattr(reading.intake, name)) for name, (label, _) in FIELDS.items()]
    context = {"case": reading.case, "client": reading.client, "intake": reading.intake, "answers": answers}
    return render(request, "workspace/client_intake.html", context)
