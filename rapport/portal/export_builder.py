"""Building a client's data export: every registered section, as JSON and as a readable PDF, in one zip.

The builder knows no feature app: it asks :mod:`rapport.core.exports` for the registered
providers and calls each with the client. It is plain work with no writes; the service around it
records progress, stores the result and audits.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string

from rapport.clients.models import Client
from rapport.core.exports import ExportSection, registered
from rapport.core.pdf import html_to_pdf

FORMAT = "rapport-data-export"
FORMAT_VERSION = 1
README = """\
Your data from {practice}, exported {when}.

export.json  everything in this export, for a computer to read (UTF-8 JSON; times in UTC, ISO 8601)
export.pdf   the same, for a person to read (times in {zone})

Keep this file somewhere safe: it holds your therapy record.
"""


@dataclass(frozen=True)
class BuiltExport:
    content: bytes
    sections: list[str]


def build_export(client: Client, *, now: datetime, on_progress: Callable[[int], None] | None = None) -> BuiltExport:
    """The zip of ``export.json``, ``export.pdf`` and a short README for this client.

    ``on_progress`` is told the percentage done after each section and each file: the sections
    take the first 80%, the PDF most of the rest.
    """
    report = on_progress or (lambda percent: None)
    entries = registered()
    sections: list[ExportSection] = []
    for done, entry in enumerate(entries, start=1):
        sections.append(entry.provider(client))
        report(80 * done // max(len(entries), 1))

    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generated_at": now,
        "practice": client.practice.name,
        "client": str(client.public_id),
        "sections": {section.key: {"title": section.title, "data": section.data} for section in sections},
    }
    json_bytes = json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode("utf-8")
    report(85)
    zone = ZoneInfo(client.time_zone)
    html = render_to_string(
        "pdf/export.html",
        {"client": client, "practice_name": client.practice.name, "generated": now.astimezone(zone), "sections": sections},
    )
    pdf = html_to_pdf(html)
    report(95)

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.json", json_bytes)
        archive.writestr("export.pdf", pdf)
        archive.writestr(
            "README.txt",
            README.format(practice=client.practice.name, when=f"{now.astimezone(zone):%d %B %Y, %H:%M}", zone=client.time_zone),
        )
    return BuiltExport(content=buffer.getvalue(), sections=[section.key for section in sections])
