"""Appointments in the client's data export: the sessions they were booked into, past and future.

Found through the client's own participant rows, as the portal finds them: a couple's joint
session has one row per partner, so it is in both partners' exports; a partner's individual
session is only in theirs. Manage-link tokens, video rooms and the booking reason are left out:
the first two are credentials, and the reason may be another person's words.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rapport.clients.models import CaseKind, Client
from rapport.core.exports import ExportRow, ExportSection
from rapport.scheduling.models import Appointment


def appointments_section(client: Client) -> ExportSection:
    zone = ZoneInfo(client.time_zone)
    appointments = list(
        Appointment.objects.filter(participants__client=client)
        .select_related("service", "therapist", "case")
        .distinct()
        .order_by("start", "id")
    )
    data = [
        {
            "id": str(a.public_id),
            "start": a.start,
            "end": a.end,
            "status": a.status,
            "service": a.service.name,
            "online": a.service.is_online,
            "therapist": a.therapist.display_name,
            "joint": a.case is not None and a.case.kind == CaseKind.COUPLE,
            "cancelled_at": a.cancelled_at,
            "late_cancellation": a.late_cancellation,
        }
        for a in appointments
    ]
    rows = [
        ExportRow(
            f"{a.start.astimezone(zone):%d %B %Y, %H:%M} to {a.end.astimezone(zone):%H:%M %Z}",
            f"{a.service.name} with {a.therapist.display_name}: {a.get_status_display().lower()}"
            + (" (cancelled late)" if a.late_cancellation else ""),
        )
        for a in appointments
    ]
    return ExportSection(
        key="appointments",
        title="Your appointments",
        intro="Every session you were booked into, with its time, service, therapist and what became of it.",
        data=data,
        rows=rows,
    )
