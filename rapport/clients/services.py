"""Writes for clients and cases: keyword-only, atomic, each audited in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case, CaseKind, CaseMember, CaseStatus, Client
from rapport.practice.models import Practice, Therapist

_ALLOWED_STATUS_CHANGES = {
    CaseStatus.CONSULTATION: {CaseStatus.ACTIVE, CaseStatus.CLOSED},
    CaseStatus.ACTIVE: {CaseStatus.CLOSED},
    CaseStatus.CLOSED: {CaseStatus.ACTIVE},
}


@transaction.atomic
def client_create(
    *, actor: User | None, practice: Practice, full_name: str, email: str, time_zone: str | None = None, preferred_name: str = ""
) -> Client:
    client = Client(
        practice=practice,
        full_name=full_name.strip(),
        preferred_name=preferred_name.strip(),
        email=email.strip().lower(),
        time_zone=time_zone or practice.time_zone,
    )
    client.full_clean()
    client.save()
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="clients.client",
        object_id=client.public_id,
        practice_id=practice.public_id,
        client_id=client.public_id,
    )
    return client


@transaction.atomic
def client_account_create(*, actor: User | None, client: Client, password: str | None) -> User:
    """Give a client a portal account with a verified email (onboarding by invitation comes later)."""
    if client.user_id is not None:
        raise ValidationError("This client already has an account.")
    if User.objects.filter(email__iexact=client.email).exists():
        raise ValidationError("An account with this email address already exists.")
    user = User.objects.create_user(
        email=client.email, password=password, full_name=client.full_name, role=Role.CLIENT, practice=client.practice
    )
    EmailAddress.objects.create(user=user, email=client.email, verified=True, primary=True)
    client.user = user
    client.save(update_fields=["user", "updated_at"])
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="accounts.user",
        object_id=user.public_id,
        practice_id=client.practice.public_id,
        client_id=client.public_id,
    )
    return user


@transaction.atomic
def case_open(*, actor: User | None, therapist: Therapist, clients: Sequence[Client], status: str = CaseStatus.CONSULTATION) -> Case:
    """Open a case: one client for an individual case, two partners for a couple."""
    if len(clients) not in (1, 2):
        raise ValidationError("A case has one client, or two partners for a couple.")
    if len({c.pk for c in clients}) != len(clients):
        raise ValidationError("The two partners of a couple must be different people.")
    if any(c.practice_id != therapist.practice_id for c in clients):
        raise ValidationError("Every client of a case must belong to the therapist's practice.")
    kind = CaseKind.INDIVIDUAL if len(clients) == 1 else CaseKind.COUPLE
    case = Case.objects.create(practice=therapist.practice, kind=kind, primary_therapist=therapist, status=status, opened_at=timezone.now())
    for position, client in enumerate(clients, start=1):
        CaseMember.objects.create(case=case, client=client, position=position)
    case_audit(actor=actor, action=Action.CREATE, case=case)
    return case


@transaction.atomic
def case_set_status(*, actor: User, case: Case, status: str) -> Case:
    if status not in _ALLOWED_STATUS_CHANGES.get(CaseStatus(case.status), set()):
        raise ValidationError(f"A {case.get_status_display().lower()} case cannot become {status}.")
    case.status = status
    case.closed_at = timezone.now() if status == CaseStatus.CLOSED else None
    case.save(update_fields=["status", "closed_at", "updated_at"])
    case_audit(actor=actor, action=Action.UPDATE, case=case, fields=["status"])
    return case


@transaction.atomic
def case_update_summary(*, actor: User, case: Case, summary: str) -> Case:
    """Replace the therapist's working summary. The audit event names the field, never its text."""
    case.summary = summary.strip()
    case.save(update_fields=["summary", "updated_at"])
    case_audit(actor=actor, action=Action.UPDATE, case=case, fields=["summary"])
    return case
