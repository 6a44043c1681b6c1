""" "Who opened my record" in the client's data export, worded as the portal's page words it.

Events are recorded once per client (a couple's joint case gets a row for each partner), so this
list holds the events about this client only, and never the client's own actions.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rapport.audit.selectors import events_about_client
from rapport.clients.models import Client
from rapport.clients.record_access import describe
from rapport.core.exports import ExportRow, ExportSection


def record_access_section(client: Client) -> ExportSection:
    zone = ZoneInfo(client.time_zone)
    rows_data = []
    rows = []
    for event in events_about_client(client.public_id, excluding_actor=client.user).iterator(chunk_size=500):
        row = describe(event, zone)
        rows_data.append(
            {"when": event.occurred_at, "who": row.who, "role": row.role, "action": row.action, "what": row.kind, "changes": row.changes}
        )
        who = f"{row.who} ({row.role})" if row.role else row.who
        changes = f" ({', '.join(row.changes)})" if row.changes else ""
        rows.append(ExportRow(f"{row.when:%d %B %Y, %H:%M %Z}", f"{who} {row.action} {row.kind}{changes}"))
    return ExportSection(
        key="record_access",
        title="Who opened your record",
        intro="Everyone who opened or changed your record, newest first. Your own actions are not listed.",
        data=rows_data,
        rows=rows,
    )
