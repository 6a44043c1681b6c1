"""Signals: what the detectors found about a case or one of its clients, and what the therapist did about it.

A signal is stored once per finding key (``detectors.Finding.key``), so running the detectors again
over the same data adds nothing. Its summary and evidence can quote scores and the client's own
words, so both are encrypted. Clients never see this language about themselves (docs/signals.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rapport.core.fields import EncryptedJSONField, EncryptedTextField
from rapport.core.models import BaseModel


class SignalKind(models.TextChoices):
    RUPTURE = "alliance_rupture", "Possible alliance rupture"
    SPLIT = "split_alliance", "Split alliance"
    DETERIORATION = "reliable_deterioration", "Reliable deterioration"
    NOT_ON_TRACK = "not_on_track", "Not on track"
    RISK = "risk_answer", "Risk answer"
    DISENGAGEMENT = "disengagement", "Engagement"
    STAGNATION = "goal_stagnation", "Goal not moving"
    WORDS = "words_versus_scores", "Words and scores differ"


class SignalStatus(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


class Signal(BaseModel):
    """One finding about a case (``client`` None: about the couple) with its acknowledge/resolve trail.

    ``previous`` is the latest resolved signal of the same kind and topic about the same person,
    when this one came back after it was resolved.
    """

    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("clients.Case", on_delete=models.PROTECT, related_name="signals")
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=32, choices=SignalKind.choices)
    topic = models.CharField(max_length=64, blank=True)
    key = models.CharField(max_length=200)
    severity = models.PositiveSmallIntegerField()
    occurred_on = models.DateField()
    summary = EncryptedTextField()
    # Observations, rules with parameters and sources, phrases, next step, settled date.
    evidence = EncryptedJSONField()
    status = models.CharField(max_length=16, choices=SignalStatus.choices, default=SignalStatus.NEW)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resolution_note = EncryptedTextField(blank=True)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "key"], name="signal_unique_key"),
            models.CheckConstraint(condition=models.Q(severity__gte=1, severity__lte=3), name="signal_severity_range"),
        ]
        indexes = [models.Index(fields=["case", "status"], name="signal_case_status")]


class DetectionRun(BaseModel):
    """When the detectors last ran over a case: the signals page says so, so that "no open signals"
    is never read as "nothing was checked"."""

    case = models.OneToOneField("clients.Case", on_delete=models.PROTECT, related_name="+")
    ran_at = models.DateTimeField()
