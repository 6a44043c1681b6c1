"""Authorization matrix rows for the client portal (see tests/matrix_declarations.py for the vocabulary).

The portal is for clients only: staff get 403 before anything is looked up and anonymous visitors
are sent to sign in. Its pages take no ids: each client sees their own sessions and their own
record's access list, so every client gets 200 and nothing of anyone else's (the leak check on
every 200 page holds them to the names they may see). The home page is checked with sessions
booked, so it is the page with content that the leak check reads.
"""

from __future__ import annotations

from typing import Any

from rapport.practice.models import ServiceKind
from tests.matrix_declarations import LOGIN, Check, expect
from tests.personas import World
from tests.sessions import book

_READ_ONLY = expect(everyone=405)


def _with_sessions(world: World) -> dict[str, Any]:
    book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    book(world, world.couple_case, ServiceKind.COUPLE, hour=13)
    return {}


PORTAL_ROUTES: dict[str, list[Check]] = {
    "portal:home": [Check(kwargs=_with_sessions, get=expect(anonymous=LOGIN, staff=403, clients=200), post=_READ_ONLY)],
    "portal:record_access": [Check(kwargs=_with_sessions, get=expect(anonymous=LOGIN, staff=403, clients=200), post=_READ_ONLY)],
}
