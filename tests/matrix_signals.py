"""Authorization matrix rows for a case's signals page (see tests/matrix_declarations.py).

The page names the case's clients, so it is reached through the case page's door: therapist A (the
case's therapist) reads it and acknowledges; therapist B and every other practice get 404; the
practice admin and the supervisor 403, the supervisor even where both partners consent to
supervision (supervision is without names, on its own pages); clients the workspace's 403.
Reading it records a read of each client's signals (``insights.signals``), so it declares no
``reads_case``; rapport/workspace/tests/test_signal_views.py checks those events.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from rapport.insights.models import Signal
from rapport.insights.services import signals_detect
from tests.consenting import sign_all
from tests.matrix_declarations import (
    MISSING_CASE_ID,
    NAMED_CASE_VARIANTS,
    Check,
    Outcome,
    Redirect,
    named_case_outcomes,
    world_case,
)
from tests.personas import World
from tests.results import sent, when


def _signal_of(world: World, which: str) -> str:
    """A low bond rating after a session: one signal, about the case's first client."""
    case = getattr(world, world_case(which))
    client = case.members.order_by("position").first().client
    # The arguments may be built more than once on one database: one low rating is enough.
    if not Signal.objects.filter(case=case).exists():
        sent(client, case, "alliance", {"goals": 8, "tasks": 8, "bond": 2}, when(3, 3, 18), timing="after")
        signals_detect(case, now=when(3, 4))
    signal = Signal.objects.filter(case=case).first()
    assert signal is not None
    return str(signal.public_id)


def _kwargs(which: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if which == "missing":
            return {"case_id": MISSING_CASE_ID}
        if which == "couple_consenting":
            sign_all(world.partner_a)
            sign_all(world.partner_b)
        case = getattr(world, world_case(which))
        _signal_of(world, which)
        return {"case_id": case.public_id}

    return build


def _acknowledge(which: str) -> Callable[[World], dict[str, Any]]:
    def data(world: World) -> dict[str, Any]:
        signal = None if which == "missing" else Signal.objects.filter(case=getattr(world, world_case(which))).first()
        return {"form": "acknowledge", "signal": str(signal.public_id) if signal is not None else str(uuid.uuid4())}

    return data


def _checks() -> list[Check]:
    checks = []
    for label, which in NAMED_CASE_VARIANTS:
        get = named_case_outcomes(which)
        post: dict[str, Outcome] = dict(get)
        writers: frozenset[str] = frozenset()
        if get["therapist_a"] == 200:
            post["therapist_a"] = Redirect("workspace:case_signals", same_args=True)
            writers = frozenset({"therapist_a"})
        checks.append(Check(label=label, kwargs=_kwargs(which), get=get, post=post, post_data=_acknowledge(which), post_writers=writers))
    return checks


SIGNAL_ROUTES: dict[str, list[Check]] = {"workspace:case_signals": _checks()}
