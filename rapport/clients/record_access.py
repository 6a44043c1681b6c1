"""How "Who opened my record" words an audit event for the client it is about (used by the portal and its export).

Only the actor, the kind of item, the action and the time are shown. ``detail`` may name fields;
only the ones listed here are turned into plain words and the rest are dropped, so nothing a later
feature puts there reaches the page unreviewed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rapport.accounts.models import Role
from rapport.audit.models import Action, AuditEvent

KINDS = {
    "clients.case": "your therapy record",
    "clients.client": "your client details",
    "scheduling.appointment": "an appointment",
    "scheduling.notice": "an appointment email",
    "accounts.user": "your account",
    "clients.intake": "your intake form",
    # "Theo Treating sent an invitation for your portal account".
    "clients.clientinvitation": "your portal account",
    "consents.signature": "a consent you signed",
    "portal.dataexport": "your data export",
}
OTHER_KIND = "another part of your record"

ACTIONS: dict[str, str] = {
    Action.VIEW: "opened",
    Action.CREATE: "created",
    Action.UPDATE: "changed",
    Action.DELETE: "deleted",
    Action.EXPORT: "exported",
    Action.SIGN: "signed",
    Action.INVITE: "sent an invitation for",
}
OTHER_ACTION = "used"

CHANGES = {
    "cancelled": "cancelled",
    "cancelled_late": "cancelled late",
    "moved": "moved to another time",
    "moved_late": "moved to another time, late",
    "no_show": "marked as missed",
    "case": "linked to your therapy",
    "status": "status",
    "summary": "therapist's summary",
    # The intake form's fields, as the client named them when filling it in.
    "phone": "phone",
    "postal_address": "postal address",
    "emergency_name": "emergency contact's name",
    "emergency_phone": "emergency contact's phone",
    "emergency_relationship": "emergency contact's relationship",
    "what_brings_you": "what brings you",
    "what_you_hope_for": "what you hope for",
}

ROLES = dict(Role.choices)

SYSTEM = "The system"
# An appointment's booking pages and emailed manage links need no sign-in, so the event has no
# account to name: it may have been the client, a partner booked into the same session, or anyone
# holding the link. The page says so rather than guess.
BOOKING_LINK = "Someone using a booking link"


@dataclass(frozen=True)
class AccessRow:
    who: str
    role: str
    action: str
    kind: str
    changes: list[str]
    when: datetime
    by_link: bool


def describe(event: AuditEvent, zone: ZoneInfo) -> AccessRow:
    if event.actor is not None:
        who, role, by_link = event.actor.full_name or "A member of staff", ROLES.get(event.actor_role, ""), False
    elif event.object_type == "scheduling.appointment":
        who, role, by_link = BOOKING_LINK, "", True
    else:
        who, role, by_link = SYSTEM, "", False
    fields = event.detail.get("fields") if isinstance(event.detail, dict) else None
    changes = [CHANGES[name] for name in fields if isinstance(name, str) and name in CHANGES] if isinstance(fields, list) else []
    return AccessRow(
        who=who,
        role=role,
        action=ACTIONS.get(event.action, OTHER_ACTION),
        kind=KINDS.get(event.object_type, OTHER_KIND),
        changes=changes,
        when=event.occurred_at.astimezone(zone),
        by_link=by_link,
    )
