"""How an audit event about a client's record is put into words, for the client or their therapist.

The client reads it on "Who opened my record" (the portal, and their data export), addressed as
"your"; the case's therapist reads the same events on the case's record-access page, where the
item is "the client's". Only the actor, the kind of item, the action and the time are shown. ``detail`` may name fields;
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
    "measures.results": "your check-in results",
    "measures.administration": "a check-in",
}
OTHER_KIND = "another part of your record"

# The same items as the therapist reads them, under a heading naming the client.
STAFF_KINDS = {
    "clients.case": "the therapy record",
    "clients.client": "the client's details",
    "scheduling.appointment": "an appointment",
    "scheduling.notice": "an appointment email",
    "accounts.user": "the client's account",
    "clients.intake": "the intake form",
    "clients.clientinvitation": "the client's portal account",
    "consents.signature": "a consent the client signed",
    "portal.dataexport": "the client's data export",
    "measures.results": "the client's check-in results",
    "measures.administration": "a check-in",
}
STAFF_OTHER_KIND = "another part of the client's record"

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
    # A read of the stored check-in scores (the results pages), never of the answers.
    "scores": "check-in scores",
    # A check-in's own events: answers saved, or the check-in closed with its session or its time.
    "answers": "answers",
    "expired": "expired",
}

# Only the one change that addresses the client differs for the therapist.
STAFF_CHANGES = {**CHANGES, "case": "linked to the therapy"}

ROLES = dict(Role.choices)

SYSTEM = "The system"
# An appointment's booking pages and emailed manage links need no sign-in, so the event has no
# account to name: it may have been the client, a partner booked into the same session, or anyone
# holding the link. The page says so rather than guess.
BOOKING_LINK = "Someone using a booking link"
# The same for a check-in answered through its one-time link: whoever held the emailed link.
CHECKIN_LINK = "Someone using a check-in link"


@dataclass(frozen=True)
class AccessRow:
    who: str
    role: str
    action: str
    kind: str
    changes: list[str]
    when: datetime
    by_link: bool


def describe(event: AuditEvent, zone: ZoneInfo, *, for_staff: bool = False) -> AccessRow:
    """One event as a row of plain words, its time in ``zone``; ``for_staff`` words it for the therapist."""
    kinds, other_kind, change_words = (STAFF_KINDS, STAFF_OTHER_KIND, STAFF_CHANGES) if for_staff else (KINDS, OTHER_KIND, CHANGES)
    if event.actor is not None:
        who, role, by_link = event.actor.full_name or "A member of staff", ROLES.get(event.actor_role, ""), False
    elif event.object_type == "scheduling.appointment":
        who, role, by_link = BOOKING_LINK, "", True
    elif event.object_type == "measures.administration" and isinstance(event.detail, dict) and event.detail.get("via") == "link":
        who, role, by_link = CHECKIN_LINK, "", True
    else:
        who, role, by_link = SYSTEM, "", False
    fields = event.detail.get("fields") if isinstance(event.detail, dict) else None
    changes = [change_words[name] for name in fields if isinstance(name, str) and name in change_words] if isinstance(fields, list) else []
    return AccessRow(
        who=who,
        role=role,
        action=ACTIONS.get(event.action, OTHER_ACTION),
        kind=kinds.get(event.object_type, other_kind),
        changes=changes,
        when=event.occurred_at.astimezone(zone),
        by_link=by_link,
    )
