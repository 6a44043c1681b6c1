"""Authorization matrix rows for the controls around check-ins (see tests/matrix_declarations.py).

- The case's check-in plan names the case's clients, so it is reached through the case page's
  door: therapist A (the case's therapist) reads and changes it; therapist B and every other
  practice get 404; the practice admin and the supervisor 403; clients the workspace's 403.
  Opening it is recorded as a read of each client's record.
- The practice's risk follow-up settings: the practice admin only; everyone else on staff and every
  client 403. The page names no client.
- Pausing check-ins: every client, on their own record only (no id in the URL); staff 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.consents.services import consent_defaults_create
from tests.matrix_declarations import LOGIN, MISSING_CASE_ID, Check, Outcome, Redirect, expect
from tests.personas import World

_THERAPIST_A_ONLY = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=200, therapist_b=404)
_NO_SUCH_CASE = expect(anonymous=LOGIN, clients=403, staff=404)
_CLIENTS = frozenset({"client", "partner_a", "partner_b", "other_practice_client"})


def _case_kwargs(which: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        return {"case_id": MISSING_CASE_ID if which == "missing" else getattr(world, which).public_id}

    return build


def _case(which: str) -> Callable[[World], Any]:
    def get(world: World) -> Any:
        return None if which == "missing" else getattr(world, which)

    return get


def _plan_post(world: World) -> dict[str, Any]:
    return {"before": ["presession", "phq9"], "after": ["alliance"]}


def _plan_checks() -> list[Check]:
    checks = []
    for label, which in (("", "individual_case"), ("couple", "couple_case"), ("other_practice", "other_case"), ("missing", "missing")):
        get = _THERAPIST_A_ONLY if which in ("individual_case", "couple_case") else _NO_SUCH_CASE
        post: dict[str, Outcome] = dict(get)
        writers: frozenset[str] = frozenset()
        if get["therapist_a"] == 200:
            post["therapist_a"] = Redirect("workspace:measurement_plan", same_args=True)
            writers = frozenset({"therapist_a"})
        checks.append(
            Check(
                label=label,
                kwargs=_case_kwargs(which),
                get=get,
                reads_case=_case(which),
                post=post,
                post_data=_plan_post,
                post_writers=writers,
            )
        )
    return checks


def _forms_published(world: World) -> dict[str, Any]:
    """Both practices publish their default consent form, which asks about check-ins; no client has signed it."""
    for practice in (world.practice, world.other_practice):
        consent_defaults_create(actor=None, practice=practice)
    return {}


def _risk_post(world: World) -> dict[str, Any]:
    return {
        "escalation_minutes": "30",
        "on_call": str(world.therapist_b.public_id),
        "crisis-TOTAL_FORMS": "1",
        "crisis-INITIAL_FORMS": "0",
        "crisis-0-name": "Harbour Crisis Line (fictional)",
        "crisis-0-contact": "1-800-555-0100",
        "crisis-0-note": "24 hours",
    }


CHECKIN_CONTROL_ROUTES: dict[str, list[Check]] = {
    "workspace:measurement_plan": _plan_checks(),
    "workspace:risk_settings": [
        Check(
            get=expect(anonymous=LOGIN, signed_in=403, admin=200),
            post=expect(anonymous=LOGIN, signed_in=403, admin=Redirect("workspace:risk_settings")),
            post_data=_risk_post,
            post_writers=frozenset({"admin"}),
        )
    ],
    "portal:checkin_pause": [
        Check(
            kwargs=_forms_published,
            get=expect(anonymous=LOGIN, staff=403, clients=200),
            post=expect(anonymous=LOGIN, staff=403, clients=Redirect("portal:checkin_pause")),
            post_data=lambda world: {"action": "pause"},
            post_writers=_CLIENTS,
        )
    ],
}
