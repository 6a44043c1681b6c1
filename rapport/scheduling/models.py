from __future__ import annotations

from django.conf import settings
from django.db import models

from rapport.core.fields import EncryptedTextField
from rapport.core.models import BaseModel


class WorkingHours(BaseModel):
    """One weekly range of a therapist's hours, in the therapist's own time zone."""

    therapist = models.ForeignKey("practice.Therapist", on_delete=models.CASCADE, related_name="working_hours")
    weekday = models.PositiveSmallIntegerField(help_text="0 = Monday ... 6 = Sunday")
    start = models.TimeField()
    end = models.TimeField()
    # Empty: every service. Otherwise only these (e.g. consultations only on Friday mornings).
    services = models.ManyToManyField("practice.Service", blank=True, related_name="+")

    class Meta:
        ordering = ["weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="workinghours_ends_after_start"),
            models.CheckConstraint(condition=models.Q(weekday__lte=6), name="workinghours_weekday_range"),
        ]


class OverrideKind(models.TextChoices):
    DAY_OFF = "day_off", "Day off"
    REPLACE = "replace", "Different hours"
    EXTRA = "extra", "Extra hours"


class AvailabilityOverride(BaseModel):
    """A date's exception to the weekly hours: a day off, different hours, or extra hours."""

    therapist = models.ForeignKey("practice.Therapist", on_delete=models.CASCADE, related_name="overrides")
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=OverrideKind.choices)
    start = models.TimeField(null=True, blank=True)
    end = models.TimeField(null=True, blank=True)
    services = models.ManyToManyField("practice.Service", blank=True, related_name="+")

    class Meta:
        ordering = ["day", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="day_off", start__isnull=True, end__isnull=True)
                | (~models.Q(kind="day_off") & models.Q(start__isnull=False, end__gt=models.F("start"))),
                name="override_hours_match_kind",
            )
        ]


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CANCELLED = "cancelled", "Cancelled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"


class Appointment(BaseModel):
    """One booked time of one therapist. ``blocked_*`` include the service's buffers.

    Two appointments of a therapist never overlap (buffers included): on PostgreSQL an exclusion
    constraint enforces it; on SQLite the booking service checks inside an IMMEDIATE transaction.
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="appointments")
    therapist = models.ForeignKey("practice.Therapist", on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey("practice.Service", on_delete=models.PROTECT, related_name="appointments")
    case = models.ForeignKey("clients.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    late_cancellation = models.BooleanField(default=False)
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # A consultation before any client record: only what is needed to meet.
    contact_name = models.CharField(max_length=150, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    # When the consultation's email address was shown to be the booker's (their manage link opened).
    contact_verified_at = models.DateTimeField(null=True, blank=True)
    reason = EncryptedTextField(blank=True)
    # When the booker agreed to the practice's privacy notice (public bookings only).
    privacy_accepted_at = models.DateTimeField(null=True, blank=True)
    # An unguessable room name on the practice's own video server (online services only); a
    # secret, shown only to the participants and the therapist.
    video_room = models.CharField(max_length=64, blank=True)
    # Grows with every change, for calendar invites (ICS SEQUENCE).
    sequence = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["therapist", "blocked_start", "blocked_end"], name="appointment_busy")]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="appointment_ends_after_start"),
            models.CheckConstraint(
                condition=models.Q(blocked_start__lte=models.F("start"), blocked_end__gte=models.F("end")),
                name="appointment_block_covers_session",
            ),
        ]


class Participant(BaseModel):
    """A person who receives this appointment's emails and manages it through their own link.

    A consultation has one (the contact); an individual session its client; a couples session
    both partners, each with a link of their own. The link's token is a credential: only its
    SHA-256 is looked up; a sealed copy lets later emails (reminders, changes) carry the same link.
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="participants")
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=150)
    email = models.EmailField()
    # The zone this person reads times in (the booker's browser zone, or the client's own).
    time_zone = models.CharField(max_length=64)
    token_hash = models.CharField(max_length=64, unique=True)
    token = EncryptedTextField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["appointment", "id"]


class TimeBlock(BaseModel):
    """Time a therapist keeps free of bookings (supervision, admin, lunch). Not clinical: a short label."""

    therapist = models.ForeignKey("practice.Therapist", on_delete=models.CASCADE, related_name="blocks")
    start = models.DateTimeField()
    end = models.DateTimeField()
    label = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["therapist", "start", "end"], name="timeblock_busy")]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="timeblock_ends_after_start")]


class ConsultationException(BaseModel):
    """The practice allows one more free consultation for this email address (used once)."""

    practice = models.ForeignKey("practice.Practice", on_delete=models.CASCADE, related_name="consultation_exceptions")
    email = models.EmailField()
    note = models.CharField(max_length=200, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    used_by = models.OneToOneField(Appointment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]


class NoticeKind(models.TextChoices):
    CONFIRMATION = "confirmation", "Confirmation"
    CHANGE = "change", "Change"
    CANCELLATION = "cancellation", "Cancellation"
    REMINDER = "reminder", "Reminder"


class NoticeState(models.TextChoices):
    PENDING = "pending", "Waiting"
    CLAIMED = "claimed", "Being sent"
    SENT = "sent", "Sent"
    VOID = "void", "Not needed any more"
    FAILED = "failed", "Failed"


class Notice(BaseModel):
    """One email about an appointment to one recipient: an outbox row written with the change itself.

    A worker claims a due row with a conditional UPDATE (pending -> claimed) before sending, so
    two workers never send the same row, and a worker that dies after claiming never sends it
    again. ``key`` makes queueing idempotent: the same notice cannot be queued twice.
    """

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="notices")
    # Null for the therapist's copy.
    participant = models.ForeignKey(Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=16, choices=NoticeKind.choices)
    key = models.CharField(max_length=200, unique=True)
    recipient_email = models.EmailField()
    due_at = models.DateTimeField()
    # The appointment's SEQUENCE when queued; a reminder queued for an older sequence is void.
    sequence = models.PositiveIntegerField()
    # The therapist's or partner's words that come with a change or cancellation.
    message = EncryptedTextField(blank=True)
    state = models.CharField(max_length=16, choices=NoticeState.choices, default=NoticeState.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"], name="notice_due")]
