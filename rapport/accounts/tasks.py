from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


def expired_sessions_delete() -> int:
    """Remove expired sessions from the database so ended sessions cannot linger (ASVS 5.0 7.4.1)."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@db_periodic_task(crontab(minute="*/30"))
def sessions_cleanup() -> int:
    return expired_sessions_delete()
