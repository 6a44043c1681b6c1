"""Authorization matrix rows for the therapist's treatment plan pages (see tests/matrix_declarations.py).

The plan, its history and its old versions name the case's clients, so they are reached through
the case page's door: therapist A (the case's therapist) reads them and changes the plan; therapist B
and every other practice get 404; the practice admin and the supervisor 403 (a supervisor reads
plans, without names, on the supervision pages only, so the "supervision_consented" variants,
where both partners consent to supervision, still give the supervisor 403); clients the
workspace's 403.

The plan page and an old version are recorded as a read of the plan (``plans.plan``, by
``plan_for_viewer``) rather than of the case, so they declare no ``reads_case``; tests/
test_plan_workspace.py checks those events. The history records a read of the case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.plans.services import plan_propose_goal
from tests.consenting import sign_all
from tests.matrix_declarations import (
    MISSING_CASE_ID,
    NAMED_CASE_VARIANTS,
    Check,
    Outcome,
    Redirect,
    expect,
    named_case_outcomes,
    world_case,
)
from tests.personas import World


def _case_kwargs(which: str, *, version: bool = False) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if which == "missing":
            kwargs: dict[str, Any] = {"case_id": MISSING_CASE_ID}
        else:
            if which == "couple_consenting":
                sign_all(world.partner_a)
                sign_all(world.partner_b)
            case = getattr(world, world_case(which))
            kwargs = {"case_id": case.public_id}
            if version:
                # Version 1 exists only once something was written: the therapist drafts a goal.
                plan_propose_goal(actor=case.primary_therapist.user, case=case, words="Sleep through the night (matrix)")
        if version:
            kwargs["number"] = 1
        return kwargs

    return build


def _case(which: str) -> Callable[[World], Any]:
    def get(world: World) -> Any:
        return None if which == "missing" else getattr(world, world_case(which))

    return get


def _goal_post(world: World) -> dict[str, Any]:
    return {"form": "goal", "words": "Drafted by the authorization matrix"}


def _plan_checks() -> list[Check]:
    checks = []
    for label, which in NAMED_CASE_VARIANTS:
        get = named_case_outcomes(which)
        post: dict[str, Outcome] = dict(get)
        writers: frozenset[str] = frozenset()
        if get["therapist_a"] == 200:
            post["therapist_a"] = Redirect("workspace:case_plan", same_args=True)
            writers = frozenset({"therapist_a"})
        checks.append(Check(label=label, kwargs=_case_kwargs(which), get=get, post=post, post_data=_goal_post, post_writers=writers))
    return checks


def _read_only_checks(*, version: bool) -> list[Check]:
    checks = []
    for label, which in NAMED_CASE_VARIANTS:
        get = named_case_outcomes(which)
        checks.append(
            Check(
                label=label,
                kwargs=_case_kwargs(which, version=version),
                get=get,
                reads_case=None if version else _case(which),
                post=expect(everyone=405) if not label else None,
            )
        )
    return checks


PLAN_WORKSPACE_ROUTES: dict[str, list[Check]] = {
    "workspace:case_plan": _plan_checks(),
    "workspace:case_plan_versions": _read_only_checks(version=False),
    "workspace:case_plan_version": _read_only_checks(version=True),
}
