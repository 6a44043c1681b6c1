"""Reading a treatment plan (Issue 6): the median time of ``plan_for_viewer`` on a plan of 20 items.

The therapist's read of an individual case's plan with 16 goals and 4 ways of working; each goal
has its five levels, two ratings by the therapist, the client's answer with a comment, and two
action steps, one checked off with a reflection. One call is the whole read: the scoped case, the
plan and its versions, each kind of row fetched once for all items, the decryption of every
wording, comment and reflection, and the audit row of the read.

Beside it, in the same run: the same read of a plan of 3 goals with the same rows per goal. The
selector fetches each kind of row once whatever the number of items, so the two make the same
number of queries (checked: a difference marks the run failed), and the ratio shows what the size
costs in decryption and Python. No target exists for this figure in RELIABILITY.md.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from benchmarks.timing import Result, median, quantile, spread, timed

RUNS = {False: 50, True: 5}
WARMUP = 3
LEVELS = {"-2": "Much less than expected", "-1": "Less", "0": "As expected", "1": "More", "2": "Much more than expected"}


def _plan(world: Any, goals: int, approaches: int) -> Any:
    """A case of its own for the bench client, with a plan written through the services."""
    from rapport.clients.models import CaseStatus
    from rapport.clients.services import case_open
    from rapport.plans.models import Agreement
    from rapport.plans.services import action_step_add, goal_rate, plan_add_approach, plan_propose_goal

    case = case_open(actor=world.user, therapist=world.therapist, clients=[world.client], status=CaseStatus.ACTIVE)
    revisions = []
    for index in range(goals):
        revision = plan_propose_goal(
            actor=world.user,
            case=case,
            words=f"Fictional goal {index}",
            framing=f"Framing {index}",
            gas_levels=LEVELS,
            weight=1 + index % 3,
        )
        for level in (-1, 0):
            goal_rate(actor=world.user, item=revision.item, level=level)
        action_step_add(actor=world.user, item=revision.item, text=f"Fictional step {index}")
        done = action_step_add(actor=world.user, item=revision.item, text=f"Fictional step {index}, done")
        # The bench client has no account to sign in with, so its answer and check-off are written
        # as rows: the read is what is timed, not the writes.
        done.done_at, done.done_by, done.reflection = timezone.now(), world.user, f"Fictional reflection {index}"
        done.save(update_fields=["done_at", "done_by", "reflection"])
        revisions.append(revision)
    for index in range(approaches):
        revisions.append(plan_add_approach(actor=world.user, case=case, words=f"Fictional way of working {index}"))
    for index, revision in enumerate(revisions):
        Agreement.objects.create(
            practice=world.practice,
            client=world.client,
            revision=revision,
            choice="agree" if index % 4 else "talk",
            comment=f"Fictional comment {index}",
            decided_by=world.user,
            decided_at=timezone.now(),
        )
    return case


def _queries(fn: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def plan_read(world: Any, *, quick: bool) -> Result:
    """Median milliseconds of the therapist's read of a 20-item plan, against a 3-goal one."""
    from rapport.plans.selectors import plan_for_viewer

    large = _plan(world, goals=16, approaches=4)
    small = _plan(world, goals=3, approaches=0)
    runs = RUNS[quick]

    def read(case: Any) -> Any:
        return plan_for_viewer(world.user, case.public_id)

    for _ in range(WARMUP):
        read(large)
        read(small)
    large_ms, small_ms = [], []
    for _ in range(runs):  # interleaved, so load on the machine falls on both alike
        large_ms.append(timed(lambda: read(large)) * 1000)
        small_ms.append(timed(lambda: read(small)) * 1000)

    view = read(large)
    shape_ok = (
        len(view.goals) == 16
        and len(view.approaches) == 4
        and all(len(goal.ratings) == 2 and len(goal.steps) == 2 for goal in view.goals)
        and all(goal.steps[1].reflection is not None for goal in view.goals)
    )
    large_queries, small_queries = _queries(lambda: read(large)), _queries(lambda: read(small))
    figure, base = median(large_ms), median(small_ms)
    return Result(
        name="plan_read",
        size=20,
        median=f"{figure:.2f} ms per read",
        baseline=f"{base:.2f} ms for 3 goals",
        ratio=f"{figure / base:.1f}x",
        runs=f"{runs} reads of each, interleaved",
        details=[
            f"plan_for_viewer, therapist, 20 items (16 goals, 4 ways of working): median {figure:.2f} ms, "
            f"p90 {quantile(large_ms, 0.9):.2f} ms, {spread(large_ms)} ms; 3 goals: median {base:.2f} ms",
            f"queries per read: {large_queries} for 20 items, {small_queries} for 3 goals"
            + ("" if large_queries == small_queries else " (NOT CONSTANT)"),
            f"the read's shape (items, ratings, steps, reflections): {'as built' if shape_ok else 'WRONG'}",
        ],
        ok=shape_ok and large_queries == small_queries,
    )
