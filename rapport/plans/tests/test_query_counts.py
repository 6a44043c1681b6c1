"""The plan's reads cost a fixed number of queries, whatever the number of items, answers, ratings and steps.

The counts are pinned: a change that fetches per item again shows here as a failure, not as a slow
page months later. The same plan is read at 3 goals and at 8 goals, by the therapist and by each
partner; the counts include the audited read (``case_audit``), which is one row per client.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from rapport.plans.models import ItemRevision
from rapport.plans.selectors import PlanView, items_awaiting_answer, items_needing_attention, plan_for_viewer
from rapport.plans.services import (
    action_step_add,
    action_step_complete,
    goal_rate,
    plan_add_approach,
    plan_agree_item,
    plan_item_remove,
    plan_item_revise,
    plan_propose_goal,
)
from tests.personas import World

# Queries per read of the couple's plan on SQLite: the case, the viewer, the plan and its versions,
# then one query each for items, wordings, answers, ratings, steps and the case's clients, then the
# audit rows (one per client whose record it is: both for the therapist, the reader's own for a
# partner), appended together: the chain's end, one INSERT, in a savepoint. On PostgreSQL the append
# also takes the chain's advisory lock: one more query.
THERAPIST_READ = 14
PARTNER_READ = 16
OLD_VERSION_READ = 15
NEEDING_ATTENTION = 5


def _on_this_database(count: int) -> int:
    return count + (1 if connection.vendor == "postgresql" else 0)


def _goal(world: World, index: int) -> ItemRevision:
    """Goal ``index`` of the couple's plan, with answers, ratings, steps and reflections from everyone it concerns.

    Goals cycle: joint (drafted by the therapist), Pat's own, Quinn's own. Every other goal is then
    reworded by its author, so its newest wording waits for an answer again.
    """
    therapist, pat, quinn = world.user("therapist_a"), world.user("partner_a"), world.user("partner_b")
    case = world.couple_case
    kind = index % 3
    if kind == 0:
        author, owner, concerned = therapist, None, [(pat, world.partner_a), (quinn, world.partner_b)]
    elif kind == 1:
        author, owner, concerned = pat, world.partner_a, [(pat, world.partner_a)]
    else:
        author, owner, concerned = quinn, world.partner_b, [(quinn, world.partner_b)]
    revision = plan_propose_goal(actor=author, case=case, words=f"Fictional goal {index}", owner=owner)
    item = revision.item
    for position, (user, client) in enumerate(concerned):
        plan_agree_item(
            actor=user, revision=revision, choice="agree" if position == 0 else "talk", comment=f"Comment {index} by {client.full_name}"
        )
        goal_rate(actor=user, item=item, level=1, appointment=None)
        step = action_step_add(actor=therapist, item=item, text=f"Step {index} for {client.full_name}", client=client)
        action_step_complete(actor=user, step=step, reflection=f"Reflection {index} by {client.full_name}")
    goal_rate(actor=therapist, item=item, level=0)
    if owner is None:
        both = action_step_add(actor=therapist, item=item, text=f"Step {index} for both")
        action_step_complete(actor=quinn, step=both, reflection=f"Reflection {index} on both by Quinn")
    if index % 2 == 1:
        revision = plan_item_revise(actor=author, revision=revision, words=f"Fictional goal {index}, reworded")
    return revision


def _grow(world: World, goals: int) -> None:
    have = getattr(world, "goals", 0)
    if have == 0:
        plan_add_approach(actor=world.user("therapist_a"), case=world.couple_case, words="Weekly sessions, fictional")
        dropped = plan_add_approach(actor=world.user("therapist_a"), case=world.couple_case, words="A way of working taken out")
        plan_item_remove(actor=world.user("therapist_a"), revision=dropped)
    for index in range(have, goals):
        _goal(world, index)
    world.goals = goals


def _read(world: World, persona: str, **kwargs: Any) -> PlanView:
    return plan_for_viewer(world.user(persona), world.couple_case.public_id, **kwargs)


@pytest.mark.parametrize("goals", [3, 8])
def test_reading_the_plan_costs_the_same_for_every_size(world: World, goals: int, django_assert_num_queries):
    _grow(world, goals)
    with django_assert_num_queries(_on_this_database(THERAPIST_READ)):
        view = _read(world, "therapist_a")
    assert len(view.goals) == goals
    for persona in ("partner_a", "partner_b"):
        with django_assert_num_queries(_on_this_database(PARTNER_READ)):
            _read(world, persona)
    with django_assert_num_queries(_on_this_database(OLD_VERSION_READ)):
        _read(world, "therapist_a", version=5)
    with django_assert_num_queries(NEEDING_ATTENTION):
        items_needing_attention(world.couple_case)
    with django_assert_num_queries(1):
        items_awaiting_answer(world.partner_a)


def _summary(view: PlanView) -> dict[str, Any]:
    """What a viewer gets, item by item: words, who answered what (and which comments show), whose
    ratings, which steps and which reflections."""
    return {
        item.revision.client_words: {
            "answers": [(a.client.full_name, a.choice, a.comment) for a in item.agreement.answers],
            "status": str(item.agreement.status),
            "ratings": sorted((r.client.full_name if r.client else "therapist", r.level) for r in item.ratings),
            "steps": [(s.step.text, s.reflection) for s in item.steps],
        }
        for item in view.goals
    }


def test_the_batched_reads_keep_who_sees_what(world: World):
    _grow(world, 3)
    pat, quinn = "Pat Partner", "Quinn Partner"
    joint = {
        "status": "difference",
        "ratings": [(pat, 1), (quinn, 1), ("therapist", 0)],
        "steps": [
            ("Step 0 for Pat Partner", "Reflection 0 by Pat Partner"),
            ("Step 0 for Quinn Partner", "Reflection 0 by Quinn Partner"),
            ("Step 0 for both", "Reflection 0 on both by Quinn"),
        ],
        "answers": [(pat, "agree", "Comment 0 by Pat Partner"), (quinn, "talk", "Comment 0 by Quinn Partner")],
    }
    pats = {
        "answers": [(pat, None, None)],
        "status": "waiting",
        "ratings": [(pat, 1), ("therapist", 0)],
        "steps": [("Step 1 for Pat Partner", "Reflection 1 by Pat Partner")],
    }
    quinns = {
        "answers": [(quinn, "agree", "Comment 2 by Quinn Partner")],
        "status": "agreed",
        "ratings": [(quinn, 1), ("therapist", 0)],
        "steps": [("Step 2 for Quinn Partner", "Reflection 2 by Quinn Partner")],
    }
    assert _summary(_read(world, "therapist_a")) == {
        "Fictional goal 0": joint,
        "Fictional goal 1, reworded": pats,
        "Fictional goal 2": quinns,
    }
    # Pat: her own goal, the joint one without Quinn's comment, rating, step or reflection.
    assert _summary(_read(world, "partner_a")) == {
        "Fictional goal 0": {
            "status": "difference",
            "ratings": [(pat, 1), ("therapist", 0)],
            "steps": [("Step 0 for Pat Partner", "Reflection 0 by Pat Partner"), ("Step 0 for both", None)],
            "answers": [(pat, "agree", "Comment 0 by Pat Partner"), (quinn, "talk", None)],
        },
        "Fictional goal 1, reworded": pats,
    }
    assert _summary(_read(world, "partner_b")) == {
        "Fictional goal 0": {
            "status": "difference",
            "ratings": [(quinn, 1), ("therapist", 0)],
            "steps": [("Step 0 for Quinn Partner", "Reflection 0 by Quinn Partner"), ("Step 0 for both", "Reflection 0 on both by Quinn")],
            "answers": [(pat, "agree", None), (quinn, "talk", "Comment 0 by Quinn Partner")],
        },
        "Fictional goal 2": quinns,
    }
    # As the plan stood before Pat reworded her goal: its first words, and the answer given to them.
    before = _summary(_read(world, "partner_a", version=5))
    assert before["Fictional goal 1"]["answers"] == [(pat, "agree", "Comment 1 by Pat Partner")]
    assert [v.revision.client_words for v in items_needing_attention(world.couple_case)] == [
        "Weekly sessions, fictional",
        "Fictional goal 0",
        "Fictional goal 1, reworded",
    ]
    # Pat has not answered on the way of working, nor on her reworded goal.
    assert items_awaiting_answer(world.partner_a) == {world.couple_case.public_id: 2}
