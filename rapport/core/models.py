from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models
from django.utils import timezone

_M = TypeVar("_M", bound=models.Model)


class StampedQuerySet(models.QuerySet[_M, _M]):
    """``update()`` stamps ``updated_at`` too, as ``save()`` does: a changed row always shows it.

    Readers rely on this: the briefing's cache (rapport.insights.briefing.briefing_version) knows
    a row changed only by its ``updated_at``.
    """

    def update(self, **kwargs: Any) -> int:
        kwargs.setdefault("updated_at", timezone.now())
        return super().update(**kwargs)


class BaseModel(models.Model):
    """Every Rapport row: an internal integer key, a UUID for URLs, and aware UTC timestamps.

    The integer key never leaves the database; URLs, emails and the API use ``public_id``.
    UUIDs are identifiers, not secrets (ASVS 5.0 11.5.1): access is decided by selectors.
    ``updated_at`` changes with every write of the row, whichever way it is written.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StampedQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        # auto_now only writes the column when it is among the fields saved.
        if update_fields is not None:
            fields = set(update_fields)
            update_fields = fields | {"updated_at"} if fields else fields
        super().save(*args, update_fields=update_fields, **kwargs)
