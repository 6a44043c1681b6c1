from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from rapport.core.models import BaseModel
from rapport.core.timezones import validate_time_zone


def _default_reminder_offsets() -> list[int]:
    return [48, 2]


class Practice(BaseModel):
    """The tenant. Every row that belongs to a practice carries it, and selectors scope by it."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    tagline = models.CharField(max_length=300, blank=True)
    about = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    contact_email = models.EmailField(blank=True)
    # Shown to clients wherever a risk answer or a crisis might come up; the region's own numbers.
    crisis_resources = models.JSONField(default=list, blank=True, help_text="A list of {name, contact, note} for the practice's region.")
    # Booking policy.
    cancellation_window_hours = models.PositiveSmallIntegerField(
        default=24, help_text="A client who cancels or moves a session later than this before it starts cancels late."
    )
    late_cancellation_allowed = models.BooleanField(
        default=True, help_text="Whether a client may still cancel or move online inside the window (recorded as late)."
    )
    couple_partner_may_change_alone = models.BooleanField(
        default=True, help_text="Whether one partner alone may cancel or move a couples session (the other is told either way)."
    )
    reminder_offsets_hours = models.JSONField(
        default=_default_reminder_offsets,
        blank=True,
        help_text="How many hours before a session reminders go out, e.g. [48, 2]. Empty: no reminders.",
    )
    # Shown on the booking form, which asks the visitor to agree to it; the practice's own words.
    privacy_notice = models.TextField(blank=True)
    # The risk path (docs/checkins.md): an alert about a risk answer that nobody acknowledged within
    # this many minutes goes to the on-call therapist, or else to every active practice admin.
    # MEASURES.md §1.4 asks for a clinician "at once" and gives no figure; an hour covers one
    # session (a therapist in the room cannot read email) and no more [design].
    risk_escalation_minutes = models.PositiveSmallIntegerField(
        default=60,
        validators=[MinValueValidator(1)],
        help_text="Minutes before an unacknowledged risk alert goes to the on-call therapist or the practice admins.",
    )
    on_call_therapist = models.ForeignKey(
        "Therapist",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who receives escalated risk alerts. Empty: every active practice admin.",
    )

    def __str__(self) -> str:
        return self.name


class Therapist(BaseModel):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="therapists")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="therapist")
    display_name = models.CharField(max_length=150)
    credentials = models.CharField(max_length=200, blank=True)
    bio = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    accepting_new_clients = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    max_sessions_per_day = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: no daily maximum.")
    # The private calendar feed's secret, hashed (SHA-256); empty when no feed is issued.
    # Issuing a new one revokes the old URL at once.
    calendar_token_hash = models.CharField(max_length=64, blank=True, db_index=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class ServiceKind(models.TextChoices):
    CONSULTATION = "consultation", "Free consultation"
    INDIVIDUAL = "individual", "Individual session"
    COUPLE = "couple", "Couples session"


class Service(BaseModel):
    """A bookable kind of appointment. Booking rules beyond these basics arrive with scheduling."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="services")
    kind = models.CharField(max_length=16, choices=ServiceKind.choices)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    duration_minutes = models.PositiveSmallIntegerField()
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0)
    price_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="CAD")
    is_online = models.BooleanField(default=True)
    minimum_notice_hours = models.PositiveSmallIntegerField(default=24)
    booking_horizon_days = models.PositiveSmallIntegerField(default=60)
    slot_step_minutes = models.PositiveSmallIntegerField(default=15, help_text="How far apart the offered start times are.")
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "name"]
        constraints = [models.CheckConstraint(condition=models.Q(duration_minutes__gt=0), name="service_duration_positive")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_free(self) -> bool:
        return self.price_cents == 0


class Supervision(BaseModel):
    """A supervisor's relationship to a therapist. What they may see also depends on consent."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="supervisions")
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervisions")
    therapist = models.ForeignKey(Therapist, on_delete=models.PROTECT, related_name="supervisions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["supervisor", "therapist"], name="supervision_unique_pair")]


class StaffInvitation(BaseModel):
    """A single-use, expiring invitation for a staff member. Only the token's hash is stored."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="invitations")
    email = models.EmailField()
    full_name = models.CharField(max_length=150)
    role = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)
    # Empty for the first admin, invited by the operator from the command line.
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
