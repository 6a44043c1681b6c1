"""Writes for "My data": requesting an export, building it, handing it out, and letting it expire.

Each is audited against the client: the request (by the client), the build and the expiry (by the
system), and every download. Refusals are ``ValidationError`` with a ``code`` and a sentence a
client can read; nothing is written when one is raised.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from rapport.accounts.models import User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.models import Client
from rapport.clients.selectors import client_of
from rapport.portal.export_builder import build_export
from rapport.portal.models import IN_FLIGHT, DataExport, ExportStatus

logger = logging.getLogger("rapport.portal")

OBJECT_TYPE = "portal.dataexport"
# How long a finished export can be downloaded; after that the file is deleted.
LINK_LIFETIME = timedelta(days=7)
# A build that has not finished in this long died with its worker: it is marked failed, so the
# client can ask again.
STUCK_AFTER = timedelta(minutes=30)
# A request whose build never started (the queue could not take it) is started by the sweep.
UNSTARTED_AFTER = timedelta(minutes=2)

IN_FLIGHT_MESSAGE = "Your export is already being prepared. It will appear below when it is ready; you can ask for another one after that."
FAILED_MESSAGE = "We could not prepare this export. Please ask for a new one; if it fails again, tell your practice."


def export_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _audit(export: DataExport, *, actor: User | None, action: Action, request: HttpRequest | None = None, **detail: object) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=export.public_id,
        practice_id=export.client.practice.public_id,
        client_id=export.client.public_id,
        request=request,
        detail=dict(detail) or None,
    )


@transaction.atomic
def export_request(*, actor: User, request: HttpRequest | None = None) -> DataExport:
    """The signed-in client asks for an export of their own data; its build is queued after commit.

    Refused (``in_flight``) while one of theirs is waiting or being built.
    """
    client = client_of(actor)
    if client is None:
        raise PermissionDenied("Only a client with a record can export their data.")
    # One request at a time per client: a double click sees the first one's row.
    Client.objects.select_for_update().only("pk").get(pk=client.pk)
    if DataExport.objects.filter(client=client, status__in=IN_FLIGHT).exists():
        raise ValidationError(IN_FLIGHT_MESSAGE, code="in_flight")
    token = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            export = DataExport.objects.create(client=client, requested_by=actor, token_hash=export_token_hash(token), token=token)
    except IntegrityError:
        # The partial unique index caught a race the lock could not (it should not happen).
        raise ValidationError(IN_FLIGHT_MESSAGE, code="in_flight") from None
    _audit(export, actor=actor, action=Action.CREATE, request=request)
    export_pk = export.pk
    transaction.on_commit(lambda: _enqueue(export_pk))
    return export


def _enqueue(export_pk: int) -> None:
    # Imported late: the task module needs Huey configured.
    from rapport.portal.tasks import data_export_build

    try:
        data_export_build(export_pk)
    except Exception:
        # The request is saved; the sweep starts builds that never started. The client sees
        # "waiting to start" in the meantime, not an error for a request that worked.
        logger.warning("could not enqueue data export %s; the sweep will start it", export_pk, exc_info=True)


def _set_progress(export_pk: int, percent: int) -> None:
    DataExport.objects.filter(pk=export_pk, status=ExportStatus.BUILDING).update(progress=min(percent, 99), updated_at=timezone.now())


def export_build(*, export_pk: int, now: datetime | None = None) -> DataExport | None:
    """Build a queued export: claim it, gather every section, store the zip sealed, mark it ready.

    Returns None when the export was not waiting (already claimed by another run, or gone), so
    running it twice is harmless. A failure marks it failed with a plain sentence and logs where
    it happened, never the error's text (it could quote the record).
    """
    started = now or timezone.now()
    claimed = DataExport.objects.filter(pk=export_pk, status=ExportStatus.QUEUED).update(
        status=ExportStatus.BUILDING, started_at=started, progress=0, updated_at=started
    )
    if not claimed:
        return None
    export = DataExport.objects.select_related("client", "client__practice", "client__user").defer("file").get(pk=export_pk)
    try:
        built = build_export(export.client, now=started, on_progress=lambda percent: _set_progress(export_pk, percent))
    except Exception as exc:
        # Where it failed (file, line, function) without the message or the source lines.
        where = " < ".join(
            f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in reversed(traceback.extract_tb(exc.__traceback__))
        )
        logger.error("data export %s failed with %s at %s", export.public_id, type(exc).__name__, where)
        return _finish_failed(export_pk)
    with transaction.atomic():
        export = DataExport.objects.select_for_update().select_related("client__practice").defer("file").get(pk=export_pk)
        if export.status != ExportStatus.BUILDING:
            # Marked failed as stuck while this run was still going: leave it so.
            return None
        finished = timezone.now()
        export.file = built.content
        export.file_size = len(built.content)
        export.status = ExportStatus.READY
        export.progress = 100
        export.finished_at = finished
        export.expires_at = finished + LINK_LIFETIME
        export.save(update_fields=["file", "file_size", "status", "progress", "finished_at", "expires_at", "updated_at"])
        _audit(export, actor=None, action=Action.UPDATE, fields=["status"], status="ready", sections=built.sections, bytes=export.file_size)
    return export


@transaction.atomic
def _finish_failed(export_pk: int) -> DataExport | None:
    export = DataExport.objects.select_for_update().select_related("client__practice").defer("file").get(pk=export_pk)
    if export.status != ExportStatus.BUILDING:
        return None
    export.status = ExportStatus.FAILED
    export.failure = FAILED_MESSAGE
    export.finished_at = timezone.now()
    export.token = ""
    export.save(update_fields=["status", "failure", "finished_at", "token", "updated_at"])
    _audit(export, actor=None, action=Action.UPDATE, fields=["status"], status="failed")
    return export


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes


class LinkExpired(Exception):
    """The link was the client's, but its export is no longer there to download."""


def export_download(*, actor: User, export: DataExport, now: datetime | None = None, request: HttpRequest | None = None) -> Download:
    """Hand the client their ready export, and audit that it left the practice.

    The caller has checked the export is the actor's own (see ``selectors.export_for_link``).
    Raises :class:`LinkExpired` when it has expired or its file is gone; nothing is served then.
    """
    now = now or timezone.now()
    if export.status != ExportStatus.READY or export.expires_at is None or export.expires_at <= now:
        raise LinkExpired
    content = DataExport.objects.only("pk", "public_id", "file").get(pk=export.pk).file
    if not content:
        raise LinkExpired
    _audit(export, actor=actor, action=Action.EXPORT, request=request, format="zip", bytes=len(content))
    zone_day = export.finished_at or now
    return Download(filename=f"my-data-{zone_day:%Y-%m-%d}.zip", content=bytes(content))


@dataclass(frozen=True)
class SweepReport:
    expired: int = 0
    failed_stuck: int = 0
    restarted: int = 0


def exports_sweep(*, now: datetime | None = None) -> SweepReport:
    """The periodic housekeeping: delete the files of expired exports (keeping their rows), fail
    builds that died, and start builds that were never started."""
    now = now or timezone.now()
    expired = 0
    for pk in DataExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            export = DataExport.objects.select_for_update().select_related("client__practice").defer("file").get(pk=pk)
            if export.status != ExportStatus.READY:
                continue
            # "" is what an empty encrypted field stores: the sealed zip and the link are gone.
            DataExport.objects.filter(pk=pk).update(status=ExportStatus.EXPIRED, file="", token="", file_size=0, updated_at=now)
            _audit(export, actor=None, action=Action.DELETE, fields=["file"])
            expired += 1
    stuck = list(DataExport.objects.filter(status=ExportStatus.BUILDING, started_at__lte=now - STUCK_AFTER).values_list("pk", flat=True))
    failed = sum(1 for pk in stuck if _finish_failed(pk) is not None)
    if failed:
        logger.error("%d data export build(s) stopped without finishing; marked failed", failed)
    unstarted = list(
        DataExport.objects.filter(status=ExportStatus.QUEUED, created_at__lte=now - UNSTARTED_AFTER).values_list("pk", flat=True)
    )
    for pk in unstarted:
        _enqueue(pk)
    return SweepReport(expired=expired, failed_stuck=failed, restarted=len(unstarted))
