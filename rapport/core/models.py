from __future__ import annotations

import uuid

from django.db import models


class BaseModel(models.Model):
    """Every Rapport row: an internal integer key, a UUID for URLs, and aware UTC timestamps.

    The integer key never leaves the database; URLs, emails and the API use ``public_id``.
    UUIDs are identifiers, not secrets (ASVS 5.0 11.5.1): access is decided by selectors.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
