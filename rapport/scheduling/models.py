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
    reason = EncryptedTextField(blank=True)
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
