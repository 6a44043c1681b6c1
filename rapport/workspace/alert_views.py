"""Risk alerts in the workspace: the home page's list, the alert page, and its acknowledgement.

The alert page is for the client's therapist and, once the alert is escalated, for the on-call
therapist or the practice admins it went to (``rapport.measures.selectors.alert_get_for_user``):
another practice, or a therapist who neither treats the client nor was given the alert, gets 404;
an admin or supervisor it was not escalated to, 403. Opening it reads the client's answers to the
risk items, and is audited as a clinical read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES, User
from rapport.measures import instruments
from rapport.measures.alerts import alert_acknowledge
from rapport.measures.models import AlertKind, RiskAlert
from rapport.measures.selectors import alert_evidence_read, alert_get_for_user, alerts_open_for


@dataclass(frozen=True)
class AlertRow:
    alert: RiskAlert
    client_name: str
    instrument_name: str
    raised_at: datetime
    escalated: bool


def open_alert_rows(user: User) -> list[AlertRow]:
    """The home page's list: who, which check-in, when. No answers are read for it."""
    return [
        AlertRow(
            alert=alert,
            client_name=alert.client.full_name,
            instrument_name=instruments.load(alert.administration.instrument_key).name,
            raised_at=alert.raised_at,
            escalated=alert.escalated_at is not None,
        )
        for alert in alerts_open_for(user)
    ]


def _zone_of(user: User, alert: RiskAlert) -> str:
    therapist = getattr(user, "therapist", None)
    return therapist.time_zone if therapist is not None else alert.practice.time_zone


@require_safe
@role_required(STAFF_ROLES)
def alert_detail(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    alert = alert_get_for_user(user, alert_id)
    evidence = alert_evidence_read(user=user, alert=alert, request=request)
    context = {
        "alert": alert,
        "evidence": evidence,
        "unanswered": alert.kind == AlertKind.RISK_UNANSWERED,
        "crisis_resources": alert.practice.crisis_resources or [],
        "zone": _zone_of(user, alert),
        "treating": alert.therapist.user_id == user.pk,
    }
    return render(request, "workspace/alert_detail.html", context)


@require_http_methods(["POST"])
@role_required(STAFF_ROLES)
def alert_acknowledge_view(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    alert = alert_get_for_user(user, alert_id)
    already = alert.acknowledged_at is not None
    alert_acknowledge(actor=user, alert=alert)
    if already:
        messages.info(request, "This alert was already acknowledged.")
    else:
        messages.success(request, "Acknowledged. The alert will not be escalated.")
    return HttpResponseRedirect(reverse("workspace:alert_detail", kwargs={"alert_id": alert.public_id}), status=303)
