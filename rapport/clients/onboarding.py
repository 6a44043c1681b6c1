"""Bringing a client into the portal: the therapist's invitation, and the client's first account.

After a consultation the therapist opens a case and invites each of its clients (both partners of
a couple, each on their own). The invitation works like a staff invitation
(``rapport.practice.services``): a random token of which only the hash is stored, single use,
valid for seven days, withdrawn when a newer one is sent, and claimed with a conditional UPDATE so
that two submissions of the same link cannot both create an account.

The email goes out from a Huey task once the invitation has committed (``rapport.clients.tasks``).
The token has to travel to that task, and a queue (Redis, Huey's SQLite file) is no place for a
live credential: it is sealed with the practice's encryption keys and opened only by the task.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import dateformat, timezone

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.models import Case, CaseMember, CaseStatus, Client, ClientInvitation, Intake
from rapport.clients.services import client_account_create
from rapport.core.crypto import DecryptionError
from rapport.core.greeting import greeting_name
from rapport.core.keyring import active_keyring
from rapport.practice.services import InvitationInvalid, hash_token

logger = logging.getLogger("rapport.clients.onboarding")

INVITATION_LIFETIME = timedelta(days=7)

# The messages a person holding a link can see. They say what happened and what to do, and never
# whose link it was.
UNKNOWN = "This invitation link is not valid. Ask your therapist for a new one."
USED = "This invitation has already been used. Sign in instead."
REVOKED = "This invitation was replaced by a newer one or withdrawn. Use the newest email, or ask your therapist for a new one."
EXPIRED = "This invitation has expired. Ask your therapist for a new one."
HAS_ACCOUNT = "This person already has a portal account. They can sign in instead."


@dataclass(frozen=True)
class IssuedClientInvitation:
    invitation: ClientInvitation
    token: str  # shown once, in the email link; only its hash is stored


def _token_associated_data(invitation: ClientInvitation) -> bytes:
    return f"clients.clientinvitation.token:{invitation.public_id}".encode()


def token_seal(invitation: ClientInvitation, token: str) -> str:
    """The token as an envelope only this invitation's sender can open (for the mail queue)."""
    return active_keyring().encrypt(token.encode("utf-8"), _token_associated_data(invitation))


def token_unseal(invitation: ClientInvitation, envelope: str) -> str:
    return active_keyring().decrypt(envelope, _token_associated_data(invitation)).decode("utf-8")


def invitation_state(invitation: ClientInvitation, *, now: datetime | None = None) -> str:
    """``pending``, ``accepted``, ``revoked`` or ``expired``."""
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= (now or timezone.now()):
        return "expired"
    return "pending"


def _may_invite(actor: User, case: Case) -> bool:
    return (
        actor.is_authenticated
        and actor.role == Role.THERAPIST
        and actor.practice_id == case.practice_id
        and case.primary_therapist.user_id == actor.pk
    )


@transaction.atomic
def client_invite(*, actor: User, case: Case, client: Client) -> IssuedClientInvitation:
    """Invite one client of ``case`` to set up their portal account; only the case's therapist may.

    Any earlier invitation of this client that is still open is withdrawn, so only the newest
    link works. The email is sent once this transaction commits.
    """
    if not _may_invite(actor, case):
        raise PermissionError("Only the therapist of this case can invite its clients to the portal.")
    if case.status == CaseStatus.CLOSED:
        raise ValidationError("This case is closed: reopen it before inviting its clients to the portal.")
    if not CaseMember.objects.filter(case=case, client=client).exists():
        raise ValidationError("This person is not a client of this case.")
    if client.user_id is not None:
        raise ValidationError(HAS_ACCOUNT)
    if User.objects.filter(email__iexact=client.email).exists():
        # Someone (a member of staff, say) already signs in with this address: one account per person.
        raise ValidationError("An account with this client's email address already exists. Check the address on their record.")
    now = timezone.now()
    ClientInvitation.objects.filter(client=client, accepted_at__isnull=True, revoked_at__isnull=True).update(revoked_at=now, updated_at=now)
    token = secrets.token_urlsafe(32)
    invitation = ClientInvitation.objects.create(
        practice=case.practice,
        client=client,
        case=case,
        token_hash=hash_token(token),
        invited_by=actor,
        expires_at=now + INVITATION_LIFETIME,
    )
    audit_record(
        actor=actor,
        action=Action.INVITE,
        object_type="clients.clientinvitation",
        object_id=invitation.public_id,
        practice_id=case.practice.public_id,
        client_id=client.public_id,
    )
    sealed = token_seal(invitation, token)
    invitation_id = invitation.public_id
    transaction.on_commit(lambda: _queue_email(invitation_id, sealed))
    return IssuedClientInvitation(invitation=invitation, token=token)


def _queue_email(invitation_id: object, sealed: str) -> None:
    # Imported late: the task module needs Huey configured.
    from rapport.clients.tasks import client_invitation_email_send

    try:
        client_invitation_email_send(str(invitation_id), sealed)
    except Exception:
        # The invitation exists and the therapist can send it again; the page must not fail for it.
        logger.warning("could not queue the email for client invitation %s", invitation_id, exc_info=True)


def client_invitation_for_token(token: str) -> ClientInvitation:
    """The pending invitation behind a link, or :class:`InvitationInvalid` saying why not."""
    invitation = (
        ClientInvitation.objects.select_related("client", "case", "practice", "invited_by")
        .filter(token_hash=hash_token(token or ""))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid(UNKNOWN)
    state = invitation_state(invitation)
    if state == "accepted" or (state == "pending" and invitation.client.user_id is not None):
        raise InvitationInvalid(USED)
    if state == "revoked":
        raise InvitationInvalid(REVOKED)
    if state == "expired":
        raise InvitationInvalid(EXPIRED)
    return invitation


@transaction.atomic
def client_invitation_accept(*, token: str, password: str) -> User:
    """Create the client's account from a valid invitation; the link cannot be used again.

    The account's email is the client's address on record and is verified: the link reached it.
    A password that Django's validators refuse raises ``ValidationError`` and claims nothing.
    """
    invitation = client_invitation_for_token(token)
    client = invitation.client
    password_validation.validate_password(password, User(email=client.email, full_name=client.full_name, role=Role.CLIENT))
    # Claim the invitation with a conditional update so two submissions cannot both succeed.
    claimed = ClientInvitation.objects.filter(
        pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).update(accepted_at=timezone.now())
    if claimed != 1:
        raise InvitationInvalid(USED)
    user = client_account_create(actor=None, client=client, password=password)
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="clients.clientinvitation",
        object_id=invitation.public_id,
        practice_id=invitation.practice.public_id,
        client_id=client.public_id,
        detail={"accepted": True},
    )
    return user


@transaction.atomic
def client_invitation_revoke(*, actor: User, invitation: ClientInvitation) -> ClientInvitation:
    """Withdraw an open invitation (the therapist of its case only); its link stops working."""
    if not _may_invite(actor, invitation.case):
        raise PermissionError("Only the therapist of this case can withdraw its invitations.")
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has already been used.")
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="clients.clientinvitation",
        object_id=invitation.public_id,
        practice_id=invitation.practice.public_id,
        client_id=invitation.client.public_id,
        detail={"change": "revoked"},
    )
    return invitation


def invitation_email(invitation: ClientInvitation, token: str) -> EmailMessage:
    """The invitation email: the practice, the therapist, the link and when it expires. Nothing clinical."""
    client = invitation.client
    practice = invitation.practice
    therapist = invitation.case.primary_therapist
    expires = invitation.expires_at.astimezone(ZoneInfo(client.time_zone or practice.time_zone))
    context = {
        "greeting_name": greeting_name(client.preferred_name or client.full_name),
        "practice": practice.name,
        "therapist": therapist.display_name,
        # Reversed by name: the portal sits above this app and is not imported from here.
        "link": settings.SITE_URL + reverse("portal:welcome", kwargs={"token": token}),
        "expires": f"{dateformat.format(expires, 'l j F Y, H:i')} ({expires.tzinfo})",
        "reply_to": practice.contact_email,
    }
    return EmailMessage(
        subject=f"{therapist.display_name} invites you to your {practice.name} portal",
        body=render_to_string("emails/client_invitation.txt", context).strip() + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[client.email],
        reply_to=[practice.contact_email] if practice.contact_email else None,
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )


def invitation_email_send(invitation_public_id: str, sealed_token: str) -> bool:
    """Send the email for an invitation if it is still open; True when the mail server took it.

    A newer invitation may have replaced this one, or the client may have used it, by the time the
    queue gets here: then there is nothing to send, and an old link is never mailed out.
    """
    invitation = (
        ClientInvitation.objects.select_related("client", "practice", "case__primary_therapist")
        .filter(public_id=invitation_public_id)
        .first()
    )
    if invitation is None or invitation_state(invitation) != "pending":
        return False
    try:
        token = token_unseal(invitation, sealed_token)
    except DecryptionError:
        # Not sealed for this invitation (or under a key no longer held): retrying cannot help.
        logger.warning("client invitation %s: the queued token does not open; nothing sent", invitation_public_id)
        return False
    if hash_token(token) != invitation.token_hash:
        return False
    sent = invitation_email(invitation, token).send()
    return sent == 1


@dataclass(frozen=True)
class PortalAccess:
    """Where one client of a case stands with the portal, as their therapist's case page shows it."""

    client: Client
    has_account: bool
    invitation: ClientInvitation | None  # the newest one sent, whatever became of it
    state: str  # "account", "pending", "expired", "revoked" or "none"
    intake_submitted_at: datetime | None


def portal_access_of(case: Case) -> list[PortalAccess]:
    """Each client of the case: account or not, their newest invitation, and whether they sent their intake.

    Reads no clinical text (the intake's date only); the caller decides who may see it.
    """
    members = list(case.members.select_related("client").order_by("position"))
    clients = [m.client for m in members]
    newest: dict[int, ClientInvitation] = {}
    for sent in ClientInvitation.objects.filter(client__in=clients).order_by("created_at", "id"):
        newest[sent.client_id] = sent
    submitted = dict(Intake.objects.filter(client__in=clients).values_list("client_id", "submitted_at"))
    now = timezone.now()
    rows = []
    for client in clients:
        invitation = newest.get(client.pk)
        if client.user_id is not None:
            state = "account"
        elif invitation is None:
            state = "none"
        else:
            # "accepted" cannot show here: accepting links the account in the same transaction.
            state = invitation_state(invitation, now=now)
        rows.append(
            PortalAccess(
                client=client,
                has_account=client.user_id is not None,
                invitation=invitation,
                state=state,
                intake_submitted_at=submitted.get(client.pk),
            )
        )
    return rows
