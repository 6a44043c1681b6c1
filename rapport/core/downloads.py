"""A file handed to one signed-in person: saved, never shown inline, never kept by a cache."""

from __future__ import annotations

from django.http import HttpResponse


def private_attachment(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    # no-store: a shared computer's browser cache or a proxy must not keep a copy of a record.
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
