"""Authorization matrix rows for the goal progress pages (see tests/matrix_declarations.py).

Both pages are read-only (a POST is 405 for everyone). The plans are filled and rated first (a
joint goal and each partner's own goal, rated by the therapist and by each partner), so the leak
check on every 200 page reads a page with charts and tables.

- ``portal:case_goal_progress``: the case's own clients 200; every other client, and a case that
  does not exist, 404; staff 403 before any lookup; anonymous visitors sign in.
- ``workspace:case_goal_progress``: the same door as the workspace plan page: therapist A 200;
  therapist B and another practice 404; the practice admin and the supervisor 403 (with the
  clients' consent to supervision too: supervision is without names); clients 403.

Both record a read of the plan (``plans.plan``), not of the case, like the plan pages, so they
declare no ``reads_case``; tests/test_goal_progress.py checks those events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.plans.services import goal_rate, plan_propose_goal
from tests.consenting import sign_all
from tests.matrix_declarations import LOGIN, MISSING_CASE_ID, Check, Outcome, expect
from tests.personas import World


def _rated(world: World) -> None:
    therapist, pat, quinn, cora = (world.user(p) for p in ("therapist_a", "partner_a", "partner_b", "client"))
    joint = plan_propose_goal(actor=pat, case=world.couple_case, words="A joint goal for the matrix")
    pats = plan_propose_goal(actor=pat, case=world.couple_case, words="Pat's own goal", owner=world.partner_a)
    quinns = plan_propose_goal(actor=quinn, case=world.couple_case, words="Quinn's own goal", owner=world.partner_b)
    coras = plan_propose_goal(actor=cora, case=world.individual_case, words="Cora's goal")
    for actor, revision, level in (
        (therapist, joint, -1),
        (pat, joint, 1),
        (quinn, joint, -2),
        (pat, pats, 0),
        (quinn, quinns, 2),
        (therapist, quinns, 1),
        (cora, coras, -1),
        (therapist, coras, 0),
    ):
        goal_rate(actor=actor, item=revision.item, level=level)


def _kwargs(which: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        _rated(world)
        if which == "missing":
            return {"case_id": MISSING_CASE_ID}
        if which == "couple_consenting":
            sign_all(world.partner_a)
            sign_all(world.partner_b)
            which_case = "couple_case"
        else:
            which_case = which
        return {"case_id": getattr(world, which_case).public_id}

    return build


_VARIANTS = (
    ("", "individual_case"),
    ("couple", "couple_case"),
    ("supervision_consented", "couple_consenting"),
    ("other_practice", "other_case"),
    ("missing", "missing"),
)
_MEMBERS = {
    "individual_case": ("client",),
    "couple_case": ("partner_a", "partner_b"),
    "couple_consenting": ("partner_a", "partner_b"),
    "other_case": ("other_practice_client",),
}
_OURS = ("individual_case", "couple_case", "couple_consenting")


def _portal() -> list[Check]:
    checks = []
    for label, which in _VARIANTS:
        members = _MEMBERS.get(which, ())
        get: dict[str, Outcome] = expect(anonymous=LOGIN, staff=403, clients=404, **dict.fromkeys(members, 200))
        checks.append(Check(label=label, kwargs=_kwargs(which), get=get, post=expect(everyone=405) if not label else None))
    return checks


def _workspace() -> list[Check]:
    checks = []
    for label, which in _VARIANTS:
        if which in _OURS:
            get = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=200, therapist_b=404)
        else:
            get = expect(anonymous=LOGIN, clients=403, staff=404)
        checks.append(Check(label=label, kwargs=_kwargs(which), get=get, post=expect(everyone=405) if not label else None))
    return checks


GOAL_PROGRESS_ROUTES: dict[str, list[Check]] = {
    "portal:case_goal_progress": _portal(),
    "workspace:case_goal_progress": _workspace(),
}
