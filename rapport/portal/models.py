"""The client's "My data" exports: one row per request, its progress, and the built file.

The file is a zip (``export.json`` and a readable ``export.pdf``) sealed in the row itself with
the practice's encryption keys: it is the client's whole record, so it is kept like any other
clinical text, and a small practice needs no file store for it. A few hundred kilobytes per
export; the file is deleted when the link expires, the row stays as history.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from rapport.core.fields import EncryptedBinaryField, EncryptedTextField
from rapport.core.models import BaseModel


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    BUILDING = "building", "Being prepared"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Could not be prepared"
    EXPIRED = "expired", "Expired"


IN_FLIGHT = (ExportStatus.QUEUED, ExportStatus.BUILDING)


class DataExport(BaseModel):
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="data_exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    # Percent done while building: moves on as each section is gathered.
    progress = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The download link's token is a credential: only its SHA-256 is looked up. A sealed copy lets
    # the client's own page show the link again while it is valid (as scheduling's manage links do).
    token_hash = models.CharField(max_length=64, unique=True)
    token = EncryptedTextField(blank=True)
    file = EncryptedBinaryField(blank=True, default=b"")
    file_size = models.PositiveIntegerField(default=0)
    # A plain sentence for the client when the build failed; never the error itself.
    failure = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "-created_at"], name="dataexport_client_newest")]
        constraints = [
            # One export in flight per client, whatever races the request check loses.
            models.UniqueConstraint(
                fields=["client"], condition=models.Q(status__in=["queued", "building"]), name="dataexport_one_in_flight_per_client"
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="dataexport_progress_percent"),
        ]

    def __str__(self) -> str:
        return f"Data export {self.public_id}"

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT
