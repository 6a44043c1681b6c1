"""Reads for "My data": a client's own exports, and the export a download link points at."""

from __future__ import annotations

from django.db.models import QuerySet

from rapport.accounts.models import User
from rapport.clients.models import Client
from rapport.portal.models import DataExport
from rapport.portal.services import export_token_hash

RECENT_EXPORTS = 10


def exports_of(client: Client, *, limit: int = RECENT_EXPORTS) -> QuerySet[DataExport]:
    """The client's most recent exports, newest first, without their files."""
    return DataExport.objects.filter(client=client).defer("file").order_by("-created_at", "-id")[:limit]


def export_for_link(user: User, token: str) -> DataExport | None:
    """The export a download link names, if it is the signed-in user's own; otherwise None.

    Anyone else's link (the other partner's, a therapist's guess) is "not found", the same as a
    link that never existed, so a link reveals nothing to someone it was not made for.
    """
    if not token or len(token) > 100:
        return None
    export = (
        DataExport.objects.select_related("client", "client__practice").defer("file").filter(token_hash=export_token_hash(token)).first()
    )
    if export is None or export.client.user_id is None or export.client.user_id != user.pk:
        return None
    return export
