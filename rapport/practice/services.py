"""Writes for practices, their staff and services. Every write is audited in its own transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import STAFF_ROLES, Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.practice.models import Practice, Service, ServiceKind, StaffInvitation, Supervision, Therapist

INVITATION_LIFETIME = timedelta(days=7)

DEFAULT_SERVICES: tuple[dict[str, Any], ...] = (
    {
        "kind": ServiceKind.CONSULTATION,
        "name": "Free 15-minute online consultation",
        "description": "A short video call to see whether we are a good fit. No cost, no commitment.",
        "duration_minutes": 15,
        "buffer_after_minutes": 5,
        "price_cents": 0,
        "is_online": True,
        "minimum_notice_hours": 12,
        "sort_order": 0,
    },
    {
        "kind": ServiceKind.INDIVIDUAL,
        "name": "Individual session",
        "description": "A 50-minute session for one person, online or in the office.",
        "duration_minutes": 50,
        "buffer_after_minutes": 10,
        "price_cents": 15000,
        "is_online": False,
        "sort_order": 1,
    },
    {
        "kind": ServiceKind.COUPLE,
        "name": "Couples session",
        "description": "A 75-minute session for two partners together.",
        "duration_minutes": 75,
        "buffer_after_minutes": 15,
        "price_cents": 19000,
        "is_online": False,
        "sort_order": 2,
    },
)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def practice_create(*, actor: User | None, name: str, slug: str, time_zone: str, **fields: Any) -> Practice:
    """Create a practice with the three default services."""
    practice = Practice(name=name, slug=slug, time_zone=time_zone, **fields)
    practice.full_clean()
    practice.save()
    for spec in DEFAULT_SERVICES:
        Service.objects.create(practice=practice, **spec)
    audit_record(
        actor=actor, action=Action.CREATE, object_type="practice.practice", object_id=practice.public_id, practice_id=practice.public_id
    )
    return practice


@transaction.atomic
def staff_user_create(
    *, actor: User | None, practice: Practice, email: str, full_name: str, role: str, password: str | None, time_zone: str | None = None
) -> User:
    """Create a staff account with a verified email; therapists also get their therapist profile."""
    if role not in STAFF_ROLES:
        raise ValidationError(f"{role!r} is not a staff role.")
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError("An account with this email address already exists.")
    user = User.objects.create_user(email=email, password=password, full_name=full_name, role=role, practice=practice)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if role == Role.THERAPIST:
        therapist = Therapist(practice=practice, user=user, display_name=full_name, time_zone=time_zone or practice.time_zone)
        therapist.full_clean()
        therapist.save()
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="accounts.user",
        object_id=user.public_id,
        practice_id=practice.public_id,
        detail={"role": role},
    )
    return user


@transaction.atomic
def supervision_create(*, actor: User | None, supervisor: User, therapist: Therapist) -> Supervision:
    if supervisor.role != Role.SUPERVISOR or supervisor.practice_id != therapist.practice_id:
        raise ValidationError("A supervisor must be a supervisor of the same practice.")
    supervision = Supervision.objects.create(practice=therapist.practice, supervisor=supervisor, therapist=therapist)
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="practice.supervision",
        object_id=supervision.public_id,
        practice_id=therapist.practice.public_id,
    )
    return supervision


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: StaffInvitation
    token: str  # shown once, in the email link; only its hash is stored


@transaction.atomic
def staff_invite(*, actor: User, email: str, full_name: str, role: str) -> IssuedInvitation:
    """Invite a staff member to the actor's practice. Only a practice admin may invite."""
    if actor.role != Role.PRACTICE_ADMIN or actor.practice is None:
        raise PermissionError("Only a practice admin can invite staff.")
    return _invitation_issue(practice=actor.practice, invited_by=actor, email=email, full_name=full_name, role=role)


@transaction.atomic
def practice_bootstrap(
    *, name: str, slug: str, time_zone: str, admin_email: str, admin_name: str, contact_email: str = ""
) -> IssuedInvitation:
    """An operator's first step: the practice, its default services, and an invitation for its admin.

    The admin chooses their own password and second factor through the link; no password ever
    passes through the command line.
    """
    practice = practice_create(actor=None, name=name, slug=slug, time_zone=time_zone, contact_email=contact_email)
    return practice_admin_invite(practice=practice, email=admin_email, full_name=admin_name)


@transaction.atomic
def practice_admin_invite(*, practice: Practice, email: str, full_name: str) -> IssuedInvitation:
    """An operator's invitation for a practice admin, e.g. when the first link expired unused."""
    return _invitation_issue(practice=practice, invited_by=None, email=email, full_name=full_name, role=Role.PRACTICE_ADMIN)


def _invitation_issue(*, practice: Practice, invited_by: User | None, email: str, full_name: str, role: str) -> IssuedInvitation:
    if role not in STAFF_ROLES:
        raise ValidationError(f"{role!r} is not a staff role.")
    email = email.strip().lower()
    validate_email(email)
    if not full_name.strip():
        raise ValidationError("A name is required.")
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError("An account with this email address already exists.")
    token = secrets.token_urlsafe(32)
    invitation = StaffInvitation.objects.create(
        practice=practice,
        email=email,
        full_name=full_name,
        role=role,
        token_hash=hash_token(token),
        invited_by=invited_by,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit_record(
        actor=invited_by,
        action=Action.INVITE,
        object_type="practice.staffinvitation",
        object_id=invitation.public_id,
        practice_id=practice.public_id,
        detail={"role": role},
    )
    return IssuedInvitation(invitation=invitation, token=token)


class InvitationInvalid(Exception):
    """The link is unknown, used, revoked or expired; the message says which in plain words."""


def invitation_for_token(token: str) -> StaffInvitation:
    invitation = StaffInvitation.objects.select_related("practice").filter(token_hash=hash_token(token)).first()
    if invitation is None:
        raise InvitationInvalid("This invitation link is not valid. Ask your practice admin for a new one.")
    if invitation.accepted_at is not None:
        raise InvitationInvalid("This invitation has already been used. Sign in instead.")
    if invitation.revoked_at is not None:
        raise InvitationInvalid("This invitation was withdrawn. Ask your practice admin for a new one.")
    if invitation.expires_at <= timezone.now():
        raise InvitationInvalid("This invitation has expired. Ask your practice admin for a new one.")
    return invitation


@transaction.atomic
def staff_invitation_accept(*, token: str, full_name: str, password: str) -> User:
    """Turn a valid invitation into an account; the link cannot be used again."""
    invitation = invitation_for_token(token)
    # Claim the invitation with a conditional update so two submissions cannot both succeed.
    claimed = StaffInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(accepted_at=timezone.now())
    if claimed != 1:
        raise InvitationInvalid("This invitation has already been used. Sign in instead.")
    user = staff_user_create(
        actor=None, practice=invitation.practice, email=invitation.email, full_name=full_name, role=invitation.role, password=password
    )
    audit_record(
        actor=user,
        action=Action.UPDATE,
        object_type="practice.staffinvitation",
        object_id=invitation.public_id,
        practice_id=invitation.practice.public_id,
        detail={"accepted": True},
    )
    return user


@transaction.atomic
def staff_set_active(*, actor: User, member: User, active: bool) -> User:
    """Stop a staff member's access at once (no sign-in, every session ended; ASVS 5.0 7.4.2), or restore it.

    The account and everything it wrote stay: records are retained, and the audit trail keeps
    naming its author.
    """
    if actor.role != Role.PRACTICE_ADMIN or actor.practice is None or member.practice_id != actor.practice_id:
        raise PermissionError("Only a practice admin of the same practice can change staff access.")
    if member.pk == actor.pk:
        raise ValidationError("You cannot change your own access.")
    if member.role not in STAFF_ROLES:
        raise ValidationError("Only staff accounts are managed here.")
    if member.is_active == active:
        return member
    member.is_active = active
    member.save(update_fields=["is_active", "updated_at"])
    Therapist.objects.filter(user=member).update(is_active=active)
    if not active:
        for session in UserSession.objects.filter(user=member):
            session.end()
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="accounts.user",
        object_id=member.public_id,
        practice_id=actor.practice.public_id,
        detail={"change": "reactivated" if active else "deactivated"},
    )
    return member


@transaction.atomic
def staff_invitation_revoke(*, actor: User, invitation: StaffInvitation) -> StaffInvitation:
    if actor.role != Role.PRACTICE_ADMIN or invitation.practice_id != actor.practice_id:
        raise PermissionError("Only a practice admin of the same practice can withdraw an invitation.")
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation has already been used.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="practice.staffinvitation",
        object_id=invitation.public_id,
        practice_id=invitation.practice.public_id,
        detail={"change": "revoked"},
    )
    return invitation


# Bounds on the wait before an unacknowledged risk alert escalates [design]. At least a minute (the
# sweep runs every minute); at most eight hours, a working day: MEASURES.md §1.4 asks for a clinician
# "at once", and a longer wait stops being a follow-up of a risk answer.
RISK_ESCALATION_MIN = 1
RISK_ESCALATION_MAX = 480
CRISIS_RESOURCES_MAX = 10
CRISIS_FIELD_LIMITS = {"name": 120, "contact": 120, "note": 300}


@dataclass(frozen=True)
class CrisisResource:
    name: str
    contact: str
    note: str = ""


@transaction.atomic
def practice_risk_settings_set(
    *,
    actor: User,
    practice: Practice,
    escalation_minutes: int,
    on_call_therapist: Therapist | None,
    crisis_resources: list[CrisisResource],
) -> Practice:
    """Set how the practice follows up risk answers: the wait before escalation, who is on call, and
    the crisis resources clients are shown. Only an admin of the practice may.

    Refused with a message, changing nothing: a wait outside the bounds; an on-call therapist who is
    not an active therapist of this practice; no crisis resource, or one without a name or a contact.
    """
    if not (actor.is_authenticated and actor.role == Role.PRACTICE_ADMIN and actor.practice_id == practice.pk and actor.is_active):
        raise PermissionError("Only an admin of this practice changes its risk follow-up settings.")
    if not RISK_ESCALATION_MIN <= escalation_minutes <= RISK_ESCALATION_MAX:
        raise ValidationError(
            f"The wait before escalating must be between {RISK_ESCALATION_MIN} and {RISK_ESCALATION_MAX} minutes "
            f"({RISK_ESCALATION_MAX // 60} hours)."
        )
    if on_call_therapist is not None and not (
        on_call_therapist.practice_id == practice.pk and on_call_therapist.is_active and on_call_therapist.user.is_active
    ):
        raise ValidationError("The on-call therapist must be an active therapist of this practice.")
    resources = [
        CrisisResource(name=" ".join(r.name.split()), contact=" ".join(r.contact.split()), note=" ".join(r.note.split()))
        for r in crisis_resources
    ]
    if not resources:
        raise ValidationError("Give at least one crisis resource: clients who give a risk answer are shown these at once.")
    if len(resources) > CRISIS_RESOURCES_MAX:
        raise ValidationError(f"At most {CRISIS_RESOURCES_MAX} crisis resources, please: a client in crisis needs a short list.")
    for resource in resources:
        if not resource.name or not resource.contact:
            raise ValidationError("Each crisis resource needs a name and a way to reach it.")
        for field_name, limit in CRISIS_FIELD_LIMITS.items():
            if len(getattr(resource, field_name)) > limit:
                raise ValidationError(f"A crisis resource's {field_name} may be at most {limit} characters.")
    values: dict[str, Any] = {
        "risk_escalation_minutes": escalation_minutes,
        "on_call_therapist_id": on_call_therapist.pk if on_call_therapist is not None else None,
        "crisis_resources": [{"name": r.name, "contact": r.contact, "note": r.note} for r in resources],
    }
    changed = [name.removesuffix("_id") for name, value in values.items() if getattr(practice, name) != value]
    if not changed:
        return practice
    for name, value in values.items():
        setattr(practice, name, value)
    practice.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action=Action.UPDATE,
        object_type="practice.practice",
        object_id=practice.public_id,
        practice_id=practice.public_id,
        detail={"fields": changed},
    )
    return practice
