"""Telling a therapist that a client withdrew consent to treatment (or another item therapy needs).

``consent_withdraw`` asks for this on commit; the Huey task ``treatment_withdrawal_notify`` calls
``withdrawal_notify`` with the decision's id, so the email leaves after the withdrawal is stored
and a slow mail server never holds up the client's page.

The email names no client, in the subject or the body, and carries nothing clinical: a client of
yours withdrew consent to treatment on this date, and a link to the case page, which asks the
therapist to sign in and shows (and audits) the rest. The case is not closed or deleted.

At most once and best effort: the therapist's home page lists the withdrawal for as long as it
holds (``treatment_withdrawals_for``), so a lost email loses a nudge, never the fact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat

from rapport.clients.models import Case, CaseKind, CaseStatus
from rapport.consents.models import ItemDecision
from rapport.consents.services import TREATMENT
from rapport.core.greeting import greeting_name
from rapport.core.timezones import first_known_zone
from rapport.practice.models import Therapist

logger = logging.getLogger("rapport.consents.notifications")

SUBJECT = "A client withdrew consent to treatment"
SUBJECT_OTHER = "A client withdrew consent that therapy needs"


@dataclass(frozen=True)
class CaseLink:
    kind: str
    url: str


def emails_to_case_therapists(decision: ItemDecision, *, subject: str, template: str, context: dict[str, object]) -> list[EmailMessage]:
    """One email per therapist of the decision's client's open cases, each listing their case page(s).

    Reads only; sends nothing. The template gets ``greeting_name``, ``day`` (the decision's date in
    the therapist's zone) and ``links`` besides ``context``. A therapist who recorded the decision in
    the room, or cannot be emailed, is left out.
    """
    cases = (
        Case.objects.filter(
            members__client_id=decision.client_id,
            practice_id=decision.client.practice_id,
            status__in=(CaseStatus.CONSULTATION, CaseStatus.ACTIVE),
        )
        .select_related("primary_therapist__user")
        .order_by("opened_at", "id")
    )
    by_therapist: dict[int, tuple[Therapist, list[CaseLink]]] = {}
    for case in cases:
        link = CaseLink(
            kind="couples case" if case.kind == CaseKind.COUPLE else "individual case",
            url=settings.SITE_URL + reverse("workspace:case_detail", kwargs={"case_id": case.public_id}),
        )
        by_therapist.setdefault(case.primary_therapist_id, (case.primary_therapist, []))[1].append(link)
    emails = []
    for therapist, links in by_therapist.values():
        user = therapist.user
        if not user.is_active or not user.email or user.pk == decision.decided_by_id:
            continue
        zone = first_known_zone(therapist.time_zone, decision.client.practice.time_zone)
        body = render_to_string(
            template,
            {
                **context,
                "greeting_name": greeting_name(therapist.display_name),
                "day": dateformat.format(decision.decided_at.astimezone(zone), "l j F Y"),
                "links": links,
            },
        )
        emails.append(
            EmailMessage(
                subject=subject,
                body=body.strip() + "\n",
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[user.email],
                headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
            )
        )
    return emails


def withdrawal_emails(decision: ItemDecision) -> list[EmailMessage]:
    """One email per therapist of the client's open cases, each linking to their case page(s).

    Reads only; sends nothing. Empty when the decision is not a withdrawal of treatment or of a
    required item, or the client has no open case any more.
    """
    if decision.granted or not (decision.item_key == TREATMENT or decision.item.required):
        return []
    treatment = decision.item_key == TREATMENT
    return emails_to_case_therapists(
        decision,
        subject=SUBJECT if treatment else SUBJECT_OTHER,
        template="emails/treatment_withdrawn.txt",
        context={"treatment": treatment},
    )


def withdrawal_notify(decision_id: int) -> int:
    """Email the therapists about one withdrawal; return how many emails the mail server accepted."""
    decision = ItemDecision.objects.select_related("client__practice", "item").filter(pk=decision_id).first()
    if decision is None:
        return 0
    emails = withdrawal_emails(decision)
    if not emails:
        return 0
    sent = get_connection().send_messages(emails) or 0
    logger.info("treatment withdrawal %s: %d of %d therapist email(s) sent", decision.public_id, sent, len(emails))
    return sent
