"""Check-ins as rows: each case's measurement plan, each administration, and the risk alerts.

The instruments themselves are data files (``instruments/*.yaml``), referred to here by key and
version. An administration's answers together with the instrument version it was created with are
the source of truth; the score columns are derived from them by ``scoring.score`` at submission
and kept so that lists and reports need not decrypt and score again (docs/checkins.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rapport.core.fields import EncryptedJSONField, EncryptedTextField
from rapport.core.models import BaseModel


class Timing(models.TextChoices):
    BEFORE = "before", "Before the session"
    AFTER = "after", "After the session"


class PlanEntry(BaseModel):
    """One instrument a case's clients are asked to answer, before or after each session.

    A case's entries are created from the defaults for its kind the first time the plan is needed
    (``services.plan_entries``); from then on the therapist changes them. An entry turned off stays
    as a row, so a plan emptied on purpose is not filled with the defaults again.
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("clients.Case", on_delete=models.PROTECT, related_name="measurement_plan")
    instrument_key = models.CharField(max_length=64)
    timing = models.CharField(max_length=8, choices=Timing.choices)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["timing", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "instrument_key", "timing"], name="plan_entry_unique")]

    def __str__(self) -> str:
        return f"{self.instrument_key} {self.timing}"


class AdministrationStatus(models.TextChoices):
    PENDING = "pending", "Not started"
    IN_PROGRESS = "in_progress", "Started"
    COMPLETED = "completed", "Completed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (AdministrationStatus.PENDING, AdministrationStatus.IN_PROGRESS)


class Administration(BaseModel):
    """One client answering one instrument once, usually for one appointment.

    Each client of a couple has their own row: partners answer independently and never see each
    other's answers. ``token_hash`` is the SHA-256 of the one-time link's token, which is what a link
    is looked up by; the token itself is kept only sealed (``token``), for the emails that carry the
    link. Every answer is encrypted, choices included: together they are clinical.
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("clients.Case", on_delete=models.PROTECT, related_name="administrations")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="administrations")
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.PROTECT, related_name="administrations"
    )
    instrument_key = models.CharField(max_length=64)
    instrument_version = models.CharField(max_length=32)
    timing = models.CharField(max_length=8, choices=Timing.choices)
    status = models.CharField(max_length=16, choices=AdministrationStatus.choices, default=AdministrationStatus.PENDING)
    opens_at = models.DateTimeField()
    due_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    token_hash = models.CharField(max_length=64, unique=True)
    # The token itself, sealed with the practice's keys (as scheduling keeps a participant's
    # manage link): the invitation and the reminder carry the link, and only this row opens it.
    # Empty for check-ins created before invitations existed; those are never emailed.
    token = EncryptedTextField(blank=True)
    # Claims for the client's emails (rapport.measures.invitations): set by a conditional UPDATE
    # before the message goes out, so two workers never send the same one.
    invited_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    # Why the last email about this check-in did not go (no address, the mail server refused it):
    # for a person to look at; such a row is not emailed again by itself.
    email_error = models.CharField(max_length=300, blank=True)
    answers = EncryptedJSONField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The stored score (see the module docstring): empty until the final submission.
    total = models.IntegerField(null=True, blank=True)
    raw_total = models.IntegerField(null=True, blank=True)
    band = models.CharField(max_length=32, blank=True)
    scorable = models.BooleanField(null=True, blank=True)
    prorated = models.BooleanField(default=False)
    risk = models.JSONField(default=list, blank=True, help_text="Ids of the risk items whose answer fired.")
    risk_unanswered = models.JSONField(default=list, blank=True, help_text="Ids of the risk items left unanswered.")
    # The plan version a check-in that rates the plan (its goals, how we work) was answered against:
    # the newest when the row was created, moved to the newest when the client sends it. Empty for
    # instruments that do not rate the plan, and while the case has no plan (docs/checkins.md).
    plan_version = models.ForeignKey("plans.PlanVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "client", "instrument_key", "timing"],
                condition=models.Q(appointment__isnull=False),
                name="administration_once_per_appointment",
            )
        ]
        indexes = [
            models.Index(fields=["client", "status"], name="administration_client_status"),
            models.Index(fields=["status", "opens_at"], name="administration_status_opens"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_key} ({self.status})"


class AlertKind(models.TextChoices):
    RISK_ANSWER = "risk_answer", "A risk answer"
    RISK_UNANSWERED = "risk_unanswered", "A risk question left unanswered"


class RiskAlert(BaseModel):
    """A check-in that needs a person now: a risk answer, or a risk item left unanswered.

    Raised in the transaction that stored the answer; the case's therapist is emailed once
    (``notified_at`` is the claim), and if nobody acknowledges it within the practice's
    ``risk_escalation_minutes`` it is escalated once (``escalated_at`` is the claim) to the on-call
    therapist (``escalated_to``) or, when the practice has none, to every active practice admin
    (``escalated_to`` empty).
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    administration = models.OneToOneField(Administration, on_delete=models.PROTECT, related_name="alert")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("clients.Case", on_delete=models.PROTECT, related_name="risk_alerts")
    therapist = models.ForeignKey("practice.Therapist", on_delete=models.PROTECT, related_name="risk_alerts")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    raised_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["raised_at", "id"]
        indexes = [models.Index(fields=["acknowledged_at", "escalated_at"], name="riskalert_open")]

    def __str__(self) -> str:
        return f"{self.kind} alert"
