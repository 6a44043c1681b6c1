"""The client's own sections of their data export: their details, the courses of therapy they
belong to, and their intake answers.

Only joint facts of a case: its kind, status, therapist and dates. The therapist's working
summary is clinical text that is never shown to clients, so it is not exported either; nor is
anything of the other partner of a couple beyond the case they share.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from rapport.clients.intake import FIELDS
from rapport.clients.models import Case, Client, Intake
from rapport.core.exports import ExportRow, ExportSection


def profile_section(client: Client) -> ExportSection:
    zone = ZoneInfo(client.time_zone)
    cases = Case.objects.filter(members__client=client).select_related("primary_therapist").order_by("opened_at", "id")
    case_data = [
        {
            "id": str(case.public_id),
            "kind": case.kind,
            "status": case.status,
            "therapist": case.primary_therapist.display_name,
            "opened_at": case.opened_at,
            "closed_at": case.closed_at,
        }
        for case in cases
    ]
    rows = [
        ExportRow("Name", client.full_name),
        ExportRow("Preferred name", client.preferred_name or "—"),
        ExportRow("Email", client.email),
        ExportRow("Time zone", client.time_zone),
        ExportRow("Practice", client.practice.name),
    ]
    rows += [
        ExportRow(
            f"{case.get_kind_display()} therapy",
            f"with {case.primary_therapist.display_name}, {case.get_status_display().lower()}",
            (
                f"Opened {case.opened_at.astimezone(zone):%d %B %Y}"
                + (f", closed {case.closed_at.astimezone(zone):%d %B %Y}" if case.closed_at else ""),
            ),
        )
        for case in cases
    ]
    return ExportSection(
        key="profile",
        title="Your details",
        intro="Your details as the practice holds them, and each course of therapy you belong to.",
        data={
            "id": str(client.public_id),
            "full_name": client.full_name,
            "preferred_name": client.preferred_name,
            "email": client.email,
            "time_zone": client.time_zone,
            "practice": client.practice.name,
            "cases": case_data,
        },
        rows=rows,
    )


def intake_section(client: Client) -> ExportSection:
    """The client's own intake answers, decrypted: they wrote them. A partner's are never here."""
    intake = Intake.objects.filter(client=client).first()
    if intake is None:
        return ExportSection(key="intake", title="Your intake form", intro="You have not filled in the intake form.", data=None)
    answers = {name: getattr(intake, name) for name in FIELDS}
    zone = ZoneInfo(client.time_zone)
    return ExportSection(
        key="intake",
        title="Your intake form",
        intro=f"Your answers as last saved on {intake.updated_at.astimezone(zone):%d %B %Y at %H:%M %Z}.",
        data={"answers": answers, "created_at": intake.created_at, "updated_at": intake.updated_at},
        rows=[ExportRow(label, answers[name] or "—") for name, (label, _longest) in FIELDS.items()],
    )
