"""Reads for the person answering a check-in: through its one-time link, or signed in to the portal.

Every query the answering pages make for an administration is here, scoped to the one client it
belongs to: a token opens its own administration and no other, and a signed-in client reaches only
their own (the other partner's included, which is "not found"). Reading the saved answers back to
show them on a screen is a read of clinical data and is audited, as every other read of answers is.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.clients.models import Client
from rapport.measures import instruments
from rapport.measures.audit import administration_audit
from rapport.measures.models import OPEN_STATUSES, Administration, AdministrationStatus, AlertKind, RiskAlert
from rapport.measures.services import ALREADY_SENT, CANCELLED, CHANGED, EXPIRED, NOT_OPEN
from rapport.practice.services import hash_token

# How long a sent check-in stays listed on the client's check-ins page [design]: long enough to
# see last week's, short enough that the page stays about what is current.
RECENTLY_SENT = timedelta(days=30)
# Tokens are 43 characters (secrets.token_urlsafe(32)); anything far longer is not one of ours.
MAX_TOKEN = 200

NOT_A_FORM = "This check-in is filled in with your therapist, not online. Nothing to do here."

_RELATED = ("practice", "client", "case__primary_therapist", "appointment")


def administration_for_token(token: str) -> Administration | None:
    """The administration a one-time link opens, found by the token's hash; None for an unknown token."""
    if not token or len(token) > MAX_TOKEN:
        return None
    return Administration.objects.select_related(*_RELATED).filter(token_hash=hash_token(token)).first()


def administration_of_client(client: Client, public_id: uuid.UUID | str) -> Administration | None:
    """One of this client's own administrations; None for anyone else's, which the page shows as not found."""
    try:
        return Administration.objects.select_related(*_RELATED).filter(client=client, public_id=public_id).first()
    except (ValueError, ValidationError):
        return None


def offered_online(administration: Administration) -> bool:
    """Whether clients may answer it on a page: never an instrument whose wording is not shipped (WHO-5)."""
    try:
        return not instruments.load(administration.instrument_key).data_collection_only
    except instruments.UnknownInstrument:
        return False


def administrations_open_for(client: Client, *, now: datetime) -> list[Administration]:
    """The client's check-ins that can be answered now, the soonest due first."""
    rows = Administration.objects.select_related(*_RELATED).filter(
        client=client, status__in=OPEN_STATUSES, opens_at__lte=now, expires_at__gt=now
    )
    return [row for row in rows.order_by("due_at", "id") if offered_online(row)]


def administrations_sent_recently(client: Client, *, now: datetime) -> list[Administration]:
    """The client's check-ins sent in the last 30 days, newest first (no answers or scores: just that they went)."""
    rows = Administration.objects.select_related(*_RELATED).filter(
        client=client, status=AdministrationStatus.COMPLETED, submitted_at__gt=now - RECENTLY_SENT
    )
    return list(rows.order_by("-submitted_at", "-id"))


def closed_reason(administration: Administration, *, now: datetime) -> str | None:
    """Why this check-in cannot be answered now, in the words ``answers_save`` would refuse it with; None if it can."""
    if administration.status == AdministrationStatus.COMPLETED:
        return ALREADY_SENT
    if administration.status == AdministrationStatus.CANCELLED:
        return CANCELLED
    if administration.status == AdministrationStatus.EXPIRED or administration.expires_at <= now:
        return EXPIRED
    if administration.opens_at > now:
        return NOT_OPEN
    if not offered_online(administration):
        return NOT_A_FORM
    if instruments.load(administration.instrument_key).version != administration.instrument_version:
        return CHANGED
    return None


def risk_answer_given(administration: Administration) -> bool:
    """Whether an answer to this check-in raised a risk alert: the client then sees the crisis resources.

    True from the save that gave the answer on, even if the answer is changed back later, because
    the alert (and the therapist's being told) stays too.
    """
    return RiskAlert.objects.filter(administration=administration, kind=AlertKind.RISK_ANSWER).exists()


def respondent_answers_read(
    *, administration: Administration, user: User | None = None, token: str | None = None, request: HttpRequest | None = None
) -> dict[str, Any]:
    """The answers saved so far, to show them back to the person answering; audited.

    Only through the administration's own token, or for its own client signed in. Nothing is
    recorded when there is nothing saved to read.
    """
    if token is not None:
        if not hmac.compare_digest(hash_token(token), administration.token_hash):
            raise PermissionDenied("This link opens another check-in.")
    elif user is None or not user.is_authenticated or user.role != Role.CLIENT or administration.client.user_id != user.pk:
        raise PermissionDenied("These answers belong to someone else.")
    answers = dict(administration.answers or {})
    if answers:
        administration_audit(
            administration,
            actor=user if token is None else None,
            action=Action.VIEW,
            request=request,
            fields=["answers"],
            via="link" if token is not None else "portal",
        )
    return answers
