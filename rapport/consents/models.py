"""Consent documents, their versions and items, signatures, and the history of each choice.

A version is never edited: publishing makes a new one. Once a signature points at a version, the
version and its items refuse to be saved again, so what a client signed is what the database
holds (the copied ``content_hash`` lets anyone check). Decisions are append-only: withdrawing an
item is a new row, and the current state of an item is the newest row for its key.

Item keys carry one meaning across a practice ("supervision" means the same thing in whichever
document asks it), which is what lets other code ask ``consent_granted(client, "supervision")``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from rapport.core.models import BaseModel


class SignedVersionImmutable(RuntimeError):
    """Raised on any attempt to save a signed version or its items: publish a new version instead."""


class ConsentDocument(BaseModel):
    practice = models.ForeignKey("practice.Practice", on_delete=models.PROTECT, related_name="consent_documents")
    key = models.SlugField(max_length=64, help_text="Stable within the practice, e.g. practice-consent.")
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["practice", "key"], name="consentdocument_unique_key")]

    def __str__(self) -> str:
        return self.title


class ConsentVersion(BaseModel):
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    published_at = models.DateTimeField()
    # A material change asks every client who signed an earlier version to sign again.
    material = models.BooleanField(default=True)
    content = models.TextField()
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="consentversion_unique_number")]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    def is_signed(self) -> bool:
        return self.pk is not None and Signature.objects.filter(version_id=self.pk).exists()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.is_signed():
            raise SignedVersionImmutable("A signed consent version never changes; publish a new version.")
        super().save(*args, **kwargs)


class ConsentItem(BaseModel):
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="items")
    key = models.SlugField(max_length=64)
    text = models.TextField()
    required = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="consentitem_unique_key"),
            models.UniqueConstraint(fields=["version", "position"], name="consentitem_unique_position"),
        ]

    def __str__(self) -> str:
        return self.key

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Adding an item to a signed version would change it as surely as editing one.
        if Signature.objects.filter(version_id=self.version_id).exists():
            raise SignedVersionImmutable("A signed consent version never changes; publish a new version.")
        super().save(*args, **kwargs)


class Signature(BaseModel):
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="signatures")
    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="consent_signatures")
    case = models.ForeignKey("clients.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="consent_signatures")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    typed_name = models.CharField(max_length=150)
    signed_at = models.DateTimeField()
    # Copied from the version at signing, so the record stands on its own if it is ever questioned.
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["client", "version"], name="signature_client_version")]

    def __str__(self) -> str:
        return f"Signature {self.public_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Signatures are append-only")
        super().save(*args, **kwargs)


class ItemDecision(BaseModel):
    """One client's choice on one item at one moment: part of a signature, or a later withdrawal."""

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="consent_decisions")
    signature = models.ForeignKey(Signature, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    # The item as worded when the choice was made; a withdrawal points at the item it withdraws.
    item = models.ForeignKey(ConsentItem, on_delete=models.PROTECT, related_name="decisions")
    item_key = models.SlugField(max_length=64)
    granted = models.BooleanField()
    decided_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["client", "item_key", "-id"], name="decision_client_key_newest")]

    def __str__(self) -> str:
        return f"{self.item_key}: {'granted' if self.granted else 'withdrawn'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Consent decisions are append-only: record a new decision instead")
        super().save(*args, **kwargs)
