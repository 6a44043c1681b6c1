"""Authorization matrix rows for the pre-session briefing (see tests/matrix_declarations.py).

The briefing names a case's clients and quotes what they wrote, so only the appointment's own
therapist, treating its case, reads it: therapist A for Cora's and for the couple's session.
Therapist B, another practice's session, a missing one, and B's own consultation that has no case
yet (nothing to brief) are 404. The practice admin and the supervisor are turned away (403) before
any lookup, as on every appointment page; clients get the workspace's 403. Reading it records a
read of the briefing per client (``insights.briefing``) and of the pre-session answers shown, so
it declares no ``reads_case``; tests/test_briefing.py checks those events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.insights.services import signals_detect
from rapport.measures.models import Administration
from rapport.practice.models import ServiceKind
from tests.briefings import AGENDA, for_session
from tests.matrix_calendar import _appointment, _consultation_of_b, _other_practice, _own
from tests.matrix_declarations import LOGIN, MISSING_CASE_ID, Check, expect
from tests.personas import World
from tests.results import phq9, sent, when


def _couple_session(world: World) -> Any:
    return _appointment(world.therapist_a, ServiceKind.COUPLE, case=world.couple_case, hour=17)


def _with_history(find: Callable[[World], Any]) -> Callable[[World], Any]:
    """The session, with something to leak: a signal and a pre-session note for this session."""

    def build(world: World) -> Any:
        appointment = find(world)
        case = appointment.case
        # Once per world. A PHQ-9 going reliably worse, not an alliance dip: the signals page's rows
        # share some worlds with these and expect their own low bond to be the one new signal.
        if Administration.objects.filter(appointment=appointment).exists():
            return appointment
        for member in case.members.order_by("position"):
            sent(member.client, case, "phq9", phq9(5), when(2, 2))
            sent(member.client, case, "phq9", phq9(16), when(2, 16))
            for_session(sent(member.client, case, "presession", {"week": 5, "agenda": AGENDA}, when(2, 20)), appointment)
        signals_detect(case, now=when(2, 21))
        return appointment

    return build


_VARIANTS: tuple[tuple[str, Callable[[World], Any], str | None], ...] = (
    ("", _with_history(_own), "therapist_a"),
    ("couple", _with_history(_couple_session), "therapist_a"),
    ("consultation", _consultation_of_b, None),
    ("other_practice", _other_practice, None),
    ("missing", lambda world: None, None),
)


def _kwargs(find: Callable[[World], Any]) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        appointment = find(world)
        return {"appointment_id": appointment.public_id if appointment is not None else MISSING_CASE_ID}

    return build


def _checks() -> list[Check]:
    checks = []
    for label, find, reader in _VARIANTS:
        get = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=404, therapist_b=404)
        if reader is not None:
            get[reader] = 200
        checks.append(Check(label=label, kwargs=_kwargs(find), get=get, post=expect(everyone=405) if not label else None))
    return checks


BRIEFING_ROUTES: dict[str, list[Check]] = {"workspace:appointment_briefing": _checks()}
