from __future__ import annotations

from django.conf import settings
from django.db import models

from rapport.core.fields import EncryptedTextField
from rapport.core.models import BaseModel
from rapport.core.timezones import validate_time_zone


class Client(BaseModel):
    """A person in therapy at a practice. Each partner of a couple is a client of their own."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="clients")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="client")
    full_name = models.CharField(max_length=150)
    preferred_name = models.CharField(max_length=150, blank=True)
    email = models.EmailField()
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])

    class Meta:
        ordering = ["full_name"]
        constraints = [models.UniqueConstraint(fields=["practice", "email"], name="client_unique_email_per_practice")]

    def __str__(self) -> str:
        return self.preferred_name or self.full_name


class CaseKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    COUPLE = "couple", "Couple"


class CaseStatus(models.TextChoices):
    CONSULTATION = "consultation", "Consultation"
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class Case(BaseModel):
    """One course of therapy: one client, or two partners, with one primary therapist."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="cases")
    kind = models.CharField(max_length=16, choices=CaseKind.choices)
    primary_therapist = models.ForeignKey("practice.Therapist", on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.CONSULTATION)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # The therapist's working formulation: clinical text, so encrypted and never shown to clients.
    summary = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["practice", "primary_therapist", "status"], name="case_scope")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} case {self.public_id}"

    @property
    def pseudonym(self) -> str:
        """How the case is named where its clients must not be: "Client 3F2A", "Couple 3F2A".

        Taken from the public id, which names no one; the therapist's case page shows it too, so
        therapist and supervisor can tell which case they are talking about without a name.
        """
        who = "Couple" if self.kind == CaseKind.COUPLE else "Client"
        return f"{who} {self.public_id.hex[:4].upper()}"


class CaseMember(BaseModel):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="members")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="memberships")
    position = models.PositiveSmallIntegerField(default=1, help_text="1, or 1 and 2 for the partners of a couple.")

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "client"], name="casemember_unique_client"),
            models.UniqueConstraint(fields=["case", "position"], name="casemember_unique_position"),
        ]


class ClientInvitation(BaseModel):
    """A single-use, expiring invitation for a client to open their portal account.

    Only the token's hash is stored; the link in the email is the only copy of the token. It is
    tied to one client and the case it was sent for, so accepting it links exactly that record.
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="client_invitations")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invitations")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "accepted_at", "revoked_at"], name="clientinvitation_pending")]


class Intake(BaseModel):
    """What a client tells the practice about themselves before therapy starts, in their own words.

    One per client, written and edited only by that client. Every answer is contact detail or
    free text, so every answer is encrypted at rest.
    """

    client = models.OneToOneField(Client, on_delete=models.PROTECT, related_name="intake")
    phone = EncryptedTextField(blank=True)
    postal_address = EncryptedTextField(blank=True)
    emergency_name = EncryptedTextField(blank=True)
    emergency_phone = EncryptedTextField(blank=True)
    emergency_relationship = EncryptedTextField(blank=True)
    what_brings_you = EncryptedTextField(blank=True)
    what_you_hope_for = EncryptedTextField(blank=True)
    submitted_at = models.DateTimeField()
