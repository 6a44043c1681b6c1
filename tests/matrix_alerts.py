"""Authorization matrix rows for risk alerts (see tests/matrix_declarations.py for the vocabulary).

An alert is for the client's therapist: therapist A gets the page and may acknowledge. Therapist B
(same practice, not treating) and every member of staff of another practice get 404; the practice
admin and the supervisor, insiders the alert was not escalated to, 403; clients the workspace's
403; anonymous visitors sign in. A missing alert is 404 for all staff.

Once an alert is escalated, the on-call therapist or the practice admins may open it too, client's
name included: the global name table (NAMES_VISIBLE_TO) cannot say "this admin, for this alert",
so that grant is pinned in tests/test_alert_pages.py instead of here. The alerts are made by the
``kwargs`` functions (tests/checkins.py), inside each test's savepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.measures.models import RiskAlert
from tests.checkins import other_practice_alert, risk_alert
from tests.matrix_declarations import LOGIN, MISSING_CASE_ID, Check, Outcome, Redirect, expect
from tests.personas import World


def _alert_kwargs(which: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if which == "missing":
            return {"alert_id": MISSING_CASE_ID}
        # One test may build the arguments of several rows: make each alert once.
        client = world.client if which == "own" else world.other_client
        alert = RiskAlert.objects.filter(client=client).first()
        if alert is None:
            alert = risk_alert(world) if which == "own" else other_practice_alert(world)
        return {"alert_id": alert.public_id}

    return build


def _outcomes(which: str, therapist_a: Outcome) -> dict[str, Outcome]:
    if which == "own":
        return expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_b=404, therapist_a=therapist_a)
    return expect(anonymous=LOGIN, clients=403, staff=404)


_VARIANTS = (("", "own"), ("other_practice", "other_practice"), ("missing", "missing"))

ALERT_ROUTES: dict[str, list[Check]] = {
    "workspace:alert_detail": [
        Check(label=label, kwargs=_alert_kwargs(which), get=_outcomes(which, 200), post=expect(everyone=405) if not label else None)
        for label, which in _VARIANTS
    ],
    "workspace:alert_acknowledge": [
        Check(
            label=label,
            kwargs=_alert_kwargs(which),
            get=expect(everyone=405),
            post=_outcomes(which, Redirect("workspace:alert_detail", same_args=True)),
            post_writers=frozenset({"therapist_a"}) if which == "own" else frozenset(),
        )
        for label, which in _VARIANTS
    ],
}
