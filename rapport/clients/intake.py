"""The intake form: written by the client, read by the therapist of their case, by nobody else.

Each client has at most one intake, theirs alone: in a couple each partner writes their own, and
neither partner can reach the other's (the portal page takes no ids; the workspace page is for the
case's therapist only). Every answer is encrypted at rest; every save and every read by someone
other than its author is audited, naming fields, never their content.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.models import Case, CaseMember, Client, Intake
from rapport.clients.selectors import case_get_for_user

# Field name -> (label, longest answer kept). Contact details are short; the client's own words
# may run to a few pages, which is more than an intake needs but never cuts someone off.
FIELDS: dict[str, tuple[str, int]] = {
    "phone": ("Phone", 40),
    "postal_address": ("Postal address", 500),
    "emergency_name": ("Emergency contact's name", 150),
    "emergency_phone": ("Emergency contact's phone", 40),
    "emergency_relationship": ("How you know them", 100),
    "what_brings_you": ("What brings you to therapy", 10_000),
    "what_you_hope_for": ("What you hope for", 10_000),
}
REQUIRED = ("what_brings_you",)


def _problems(answers: dict[str, str]) -> dict[str, str]:
    problems: dict[str, str] = {}
    for name, (label, longest) in FIELDS.items():
        if len(answers[name]) > longest:
            problems[name] = f"{label}: please keep this to {longest} characters or fewer."
    for name in REQUIRED:
        if not answers[name]:
            problems[name] = "Please tell us, in a few words of your own, what brings you."
    if answers["emergency_name"] and not answers["emergency_phone"]:
        problems["emergency_phone"] = "Add a phone number for your emergency contact, or leave their name empty too."
    if answers["emergency_phone"] and not answers["emergency_name"]:
        problems["emergency_name"] = "Add your emergency contact's name, or leave their phone empty too."
    return problems


@transaction.atomic
def intake_save(*, actor: User, client: Client, **answers: Any) -> Intake:
    """Create or replace the client's intake answers; only the client themselves may.

    ``answers`` takes exactly the names in :data:`FIELDS`. A problem raises ``ValidationError``
    with one message per field and saves nothing.
    """
    if not actor.is_authenticated or actor.role != Role.CLIENT or client.user_id != actor.pk:
        raise PermissionError("Only the client can fill in their own intake form.")
    if unknown := set(answers) - set(FIELDS):
        raise ValidationError(f"Unknown intake field(s): {', '.join(sorted(unknown))}.")
    cleaned = {name: str(answers.get(name) or "").strip() for name in FIELDS}
    if problems := _problems(cleaned):
        raise ValidationError(problems)
    intake = Intake.objects.select_for_update().filter(client=client).first()
    now = timezone.now()
    if intake is None:
        intake = Intake(client=client, submitted_at=now, **cleaned)
        intake.save()
        action, changed = Action.CREATE, [name for name, value in cleaned.items() if value]
    else:
        changed = [name for name, value in cleaned.items() if getattr(intake, name) != value]
        for name in changed:
            setattr(intake, name, cleaned[name])
        if not changed:
            return intake
        intake.save(update_fields=[*changed, "updated_at"])
        action = Action.UPDATE
    audit_record(
        actor=actor,
        action=action,
        object_type="clients.intake",
        object_id=intake.public_id,
        practice_id=client.practice.public_id,
        client_id=client.public_id,
        detail={"fields": changed},
    )
    return intake


def intake_own(user: User, client: Client, *, request: HttpRequest | None = None) -> Intake | None:
    """The signed-in client's own intake (None before they first save it); the read is audited."""
    if client.user_id != user.pk:
        raise Http404("No such intake.")
    return _read(user, client, request=request)


def _read(user: User, client: Client, *, request: HttpRequest | None) -> Intake | None:
    """The client's intake, its reading audited (when there is one to read)."""
    intake = Intake.objects.filter(client=client).first()
    if intake is not None:
        audit_record(
            actor=user,
            action=Action.VIEW,
            object_type="clients.intake",
            object_id=intake.public_id,
            practice_id=client.practice.public_id,
            client_id=client.public_id,
            request=request,
        )
    return intake


def intake_submitted(client: Client) -> bool:
    return Intake.objects.filter(client=client).exists()


@dataclass(frozen=True)
class IntakeReading:
    case: Case
    client: Client
    intake: Intake | None


def intake_for_reader(
    user: Any, case_id: uuid.UUID | str, client_id: uuid.UUID | str, *, request: HttpRequest | None = None
) -> IntakeReading:
    """A client's intake as the therapist of their case reads it; the read is audited.

    The case is looked up as every case is (``case_get_for_user``: outsiders 404, insiders of the
    practice without access to clinical records 403). Past that, only the case's primary therapist
    reads, and only the intake of a client of that case: anything else is "not found", so a
    guessed or swapped id reveals nothing.
    """
    case = case_get_for_user(user, case_id)
    if user.role == Role.SUPERVISOR:
        # Consent to supervision is consent to discussion without names, never to reading the intake.
        raise PermissionDenied("Supervisors see cases without names, on the supervision pages.")
    if user.role != Role.THERAPIST or case.primary_therapist.user_id != user.pk:
        raise Http404("No such intake.")
    try:
        member = CaseMember.objects.select_related("client").get(case=case, client__public_id=client_id)
    except (CaseMember.DoesNotExist, ValueError, ValidationError):
        raise Http404("No such intake.") from None
    client = member.client
    return IntakeReading(case=case, client=client, intake=_read(user, client, request=request))
