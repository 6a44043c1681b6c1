from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "viewed"
    CREATE = "create", "created"
    UPDATE = "update", "updated"
    DELETE = "delete", "deleted"
    EXPORT = "export", "exported"
    SIGN = "sign", "signed"
    INVITE = "invite", "invited"
    LOGIN = "login", "signed in"
    LOGIN_FAILED = "login_failed", "failed to sign in"
    LOGOUT = "logout", "signed out"
    ROTATE_KEYS = "rotate_keys", "re-encrypted records"


class AuditEvent(models.Model):
    """One read or write of something that matters, chained to the event before it.

    Rows never hold clinical text: who, what action, whose record, which object, when, from where.
    ``detail`` carries only non-clinical facts (field names, counts), never values.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    # Public ids rather than foreign keys: audit sits below practice and clients in the layers,
    # and an audit row must never change when the rows it describes do.
    practice_id = models.UUIDField(null=True, blank=True, db_index=True)
    client_id = models.UUIDField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.UUIDField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["client_id", "-id"], name="audit_client_newest")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.object_type}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise RuntimeError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Audit events are append-only")
