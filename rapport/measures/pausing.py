"""A client pausing and resuming check-ins, and what follows from a pause.

A pause is a consent choice: the client's "no" to the consent item ``check_ins``
(``rapport.consents.services.CHECK_INS``), so it sits in their consent history beside every other
choice. ``check_ins_pause`` and ``check_ins_resume`` record it through ``consent_item_decide``.

Whichever way the "no" arrives (this page, withdrawing the item on the consent page, signing a
form with the item unticked, or the therapist recording it in the room), the consents hook calls
``on_consent_decided`` inside the same transaction, which:

1. cancels the client's check-ins not yet started (one already started stays open to finish, and
   its answers, risk answers included, are followed up as always);
2. emails each therapist of the client's open cases once it commits: that a client paused
   check-ins, and a link to the case. No name, nothing clinical (``pause_emails``).

The therapist's home page lists the clients paused right now (``consents.selectors.withdrawals_for``),
so a lost email loses a nudge, never the fact. New check-ins skip a paused client
(``services.check_ins_paused``). Risk follow-up never depends on any of this.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import User
from rapport.audit.models import Action
from rapport.clients.models import Client
from rapport.consents.hooks import Decided
from rapport.consents.models import ItemDecision
from rapport.consents.notifications import emails_to_case_therapists
from rapport.consents.services import CHECK_INS, consent_item_decide
from rapport.measures.audit import administration_audit
from rapport.measures.models import Administration, AdministrationStatus

logger = logging.getLogger("rapport.measures.pausing")

SUBJECT = "A client paused their check-ins"


@transaction.atomic
def check_ins_pause(*, actor: User, client: Client) -> ItemDecision:
    """Pause the client's check-ins: a "no" to the item ``check_ins``, with its consequences (see the module).

    Refused with a ``ValidationError`` (nothing written) when the practice's form does not ask
    about check-ins, or the client has paused already.
    """
    return consent_item_decide(actor=actor, client=client, item_key=CHECK_INS, granted=False)


@transaction.atomic
def check_ins_resume(*, actor: User, client: Client) -> ItemDecision:
    """Resume check-ins: a "yes" to the item ``check_ins`` again. Check-ins cancelled by the pause stay cancelled."""
    return consent_item_decide(actor=actor, client=client, item_key=CHECK_INS, granted=True)


def administrations_cancel_pending_for_client(client: Client) -> int:
    """Cancel the client's check-ins that are not started yet, in every case; started or answered ones stay."""
    rows = list(Administration.objects.select_related("client", "practice").filter(client=client, status=AdministrationStatus.PENDING))
    for administration in rows:
        claimed = Administration.objects.filter(pk=administration.pk, status=AdministrationStatus.PENDING).update(
            status=AdministrationStatus.CANCELLED, updated_at=timezone.now()
        )
        if claimed:
            administration_audit(administration, actor=None, action=Action.UPDATE, fields=["cancelled"], reason="paused")
    return len(rows)


def on_consent_decided(event: Decided) -> None:
    """The consents hook (registered in ``MeasuresConfig.ready``): act on a new pause, ignore the rest."""
    decision = event.decision
    if decision.item_key != CHECK_INS or decision.granted or not event.changed:
        return
    cancelled = administrations_cancel_pending_for_client(decision.client)
    decision_pk = decision.pk
    logger.info("client %s paused check-ins; %d not-started check-in(s) cancelled", decision.client.public_id, cancelled)
    transaction.on_commit(lambda: _queue_notify(decision_pk))


def _queue_notify(decision_pk: int) -> None:
    # Imported late: the task module needs Huey configured.
    from rapport.measures.tasks import check_ins_paused_notify_task

    try:
        check_ins_paused_notify_task(decision_pk)
    except Exception:
        # The pause has committed and the therapist's home page lists it: the client's page must
        # not fail because the queue did not answer.
        logger.exception("the email about check-in pause #%s could not be queued", decision_pk)


def pause_emails(decision: ItemDecision) -> list[EmailMessage]:
    """One email per therapist of the client's open cases, linking to their case page(s). Sends nothing.

    Empty unless the decision is the client's current "no" to check-ins: a pause taken back before
    the task ran tells nobody. A therapist who recorded the pause themselves is not emailed.
    """
    if decision.item_key != CHECK_INS or decision.granted:
        return []
    newest = (
        ItemDecision.objects.filter(client_id=decision.client_id, item_key=CHECK_INS).order_by("-id").values_list("pk", flat=True).first()
    )
    if newest != decision.pk:
        return []
    return emails_to_case_therapists(decision, subject=SUBJECT, template="emails/check_ins_paused.txt", context={})


def pause_notify(decision_id: int) -> int:
    """Email the therapists about one pause; return how many emails the mail server accepted."""
    decision = ItemDecision.objects.select_related("client__practice").filter(pk=decision_id).first()
    if decision is None:
        return 0
    emails = pause_emails(decision)
    if not emails:
        return 0
    sent = get_connection().send_messages(emails) or 0
    logger.info("check-in pause %s: %d of %d therapist email(s) sent", decision.public_id, sent, len(emails))
    return sent
