"""Authorization matrix rows for the client's plan page (see tests/matrix_declarations.py for the vocabulary).

The page is the portal's, so staff get 403 before any lookup and anonymous visitors sign in. A client
reaches only the plans of the cases they belong to; every other case, and a case that does not exist,
is 404. The plans are filled first (a joint goal and an individual goal for each partner), so the
leak check on every 200 page reads a page with content. A POST proposes a goal: the case's clients
are its writers and are sent back to the page; everyone else changes nothing.

The plan's history and each change of it follow the page: the case's clients read them, everyone
else as above; they are read-only (POST 405). Change 1 exists in every filled case.

The page's read is audited as a read of the plan (object ``plans.plan``), not of the case, so the
matrix's "one view event of the case" check does not apply; tests/test_plan_portal.py pins the
audit row instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.plans.services import plan_propose_goal
from tests.matrix_declarations import LOGIN, MISSING_CASE_ID, Check, Outcome, Redirect, expect
from tests.personas import World

_PLAN = Redirect("portal:case_plan", same_args=True)


def _with_plans(which: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        pat, quinn, cora = world.user("partner_a"), world.user("partner_b"), world.user("client")
        plan_propose_goal(actor=pat, case=world.couple_case, words="A joint goal for the matrix")
        plan_propose_goal(actor=pat, case=world.couple_case, words="Pat's own goal", owner=world.partner_a)
        plan_propose_goal(actor=quinn, case=world.couple_case, words="Quinn's own goal", owner=world.partner_b)
        plan_propose_goal(actor=cora, case=world.individual_case, words="Cora's goal")
        plan_propose_goal(actor=world.user("other_practice_client"), case=world.other_case, words="Olive's goal")
        if which == "missing":
            return {"case_id": MISSING_CASE_ID}
        return {"case_id": getattr(world, which).public_id}

    return build


def _outcomes(which: str) -> tuple[dict[str, Outcome], dict[str, Outcome], frozenset[str]]:
    members = {"individual_case": ("client",), "couple_case": ("partner_a", "partner_b"), "other_case": ("other_practice_client",)}
    allowed = members.get(which, ())
    get = expect(anonymous=LOGIN, staff=403, clients=404, **dict.fromkeys(allowed, 200))
    post = expect(anonymous=LOGIN, staff=403, clients=404, **dict.fromkeys(allowed, _PLAN))
    return get, post, frozenset(allowed)


def _checks() -> list[Check]:
    checks = []
    for label, which in (("", "individual_case"), ("couple", "couple_case"), ("other_practice", "other_case"), ("missing", "missing")):
        get, post, writers = _outcomes(which)
        checks.append(
            Check(
                label=label,
                kwargs=_with_plans(which),
                get=get,
                post=post,
                post_data=lambda world: {"action": "propose", "words": "Proposed by the authorization matrix"},
                post_writers=writers,
            )
        )
    return checks


def _history_checks(*, version: bool) -> list[Check]:
    """The plan's history and one change of it: read-only pages, so a POST is 405 for everyone."""
    checks = []
    for label, which in (("", "individual_case"), ("couple", "couple_case"), ("other_practice", "other_case"), ("missing", "missing")):
        get, _, _ = _outcomes(which)
        build = _with_plans(which)
        kwargs = (lambda world, build=build: {**build(world), "number": 1}) if version else build
        checks.append(Check(label=label, kwargs=kwargs, get=get, post=expect(everyone=405)))
    return checks


PLAN_PORTAL_ROUTES: dict[str, list[Check]] = {
    "portal:case_plan": _checks(),
    "portal:case_plan_history": _history_checks(version=False),
    "portal:case_plan_version": _history_checks(version=True),
}
