"""The portal's "Things to do" entries for plans: per case, the items waiting for this client's
answer, and each action step still open for them (their own steps and the steps for both partners).

The labels carry no clinical text: the home page shows what there is to do and when, and the plan
page, which records the read, shows the words. So these reads decrypt nothing and record nothing.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Exists, FilteredRelation, OuterRef, Q
from django.urls import reverse
from django.utils import dateformat, timezone

from rapport.clients.models import CaseKind, CaseStatus, Client
from rapport.core.todo import TodoItem
from rapport.plans.models import Agreement, ItemRevision, ItemScope, PlanItem

_OPEN = (CaseStatus.CONSULTATION, CaseStatus.ACTIVE)


def due_words(due_on: datetime.date | None, today: datetime.date) -> str:
    """When a step is due, in plain words: "due Friday 4 December", "overdue since ...", "due today"."""
    if due_on is None:
        return ""
    day = dateformat.format(due_on, "l j F" if due_on.year == today.year else "l j F Y")
    if due_on < today:
        return f"overdue since {day}"
    if due_on == today:
        return "due today"
    return f"due {day}"


@dataclass(frozen=True)
class OpenStep:
    public_id: uuid.UUID
    due_on: datetime.date | None
    for_both: bool
    case_id: uuid.UUID


def plan_work_for(client: Client) -> tuple[dict[uuid.UUID, int], list[OpenStep]]:
    """Per open case, how many current items wait for this client's answer; and their open steps.

    The counts are ``selectors.items_awaiting_answer``'s (tests/test_plan_portal.py pins them
    equal); they are asked here in the same query as the steps because the portal's home page has a
    query budget. The steps are the client's own and the joint ones, on goals still in the plan that
    they may see (joint goals and their own), never the other partner's; soonest due first,
    undated last. Counts and dates only: nothing is decrypted.
    """
    newer = ItemRevision.objects.filter(item=OuterRef("item"), number__gt=OuterRef("number"))
    answered = Agreement.objects.filter(revision=OuterRef("pk"), client=client)
    unanswered = ItemRevision.objects.filter(item=OuterRef("pk")).exclude(Exists(newer)).exclude(Exists(answered))
    rows = (
        PlanItem.objects.filter(plan__case__members__client=client, plan__case__status__in=_OPEN, removed_in__isnull=True)
        .filter(Q(scope=ItemScope.JOINT) | Q(owner=client))
        .annotate(
            waiting=Exists(unanswered),
            open_steps=FilteredRelation(
                "steps", condition=Q(steps__done_at__isnull=True) & (Q(steps__client=client) | Q(steps__client__isnull=True))
            ),
        )
        .order_by("plan__case__public_id", "id", "open_steps__id")
        .values_list(
            "pk",
            "plan__case__public_id",
            "plan__case__kind",
            "waiting",
            "open_steps__public_id",
            "open_steps__due_on",
            "open_steps__client_id",
        )
    )
    waiting: dict[uuid.UUID, set[int]] = {}
    steps: list[OpenStep] = []
    for item_pk, case_id, kind, is_waiting, step_id, due_on, step_client in rows:
        if is_waiting:
            waiting.setdefault(case_id, set()).add(item_pk)
        if step_id is not None:
            steps.append(
                OpenStep(public_id=step_id, due_on=due_on, for_both=step_client is None and kind == CaseKind.COUPLE, case_id=case_id)
            )
    # Python's sort is stable: steps due the same day keep the order they were added in.
    steps.sort(key=lambda step: (step.due_on is None, step.due_on or datetime.date.min))
    return {case_id: len(items) for case_id, items in waiting.items()}, steps


def plan_todos(client: Client) -> list[TodoItem]:
    waiting, steps = plan_work_for(client)
    # Reversed by name: the portal sits above this app and is not imported from here.
    todos = [
        TodoItem(
            label=f"Your plan: {count} item{'s' if count != 1 else ''} waiting for your answer",
            url=reverse("portal:case_plan", kwargs={"case_id": case_id}),
        )
        for case_id, count in waiting.items()
    ]
    today = timezone.localdate(timezone=ZoneInfo(client.time_zone))
    for step in steps:
        what = "a step for both of you" if step.for_both else "a step to take"
        when = due_words(step.due_on, today)
        # No ``due``: the home page would add its own "by <date>" beside the words that already say it.
        todos.append(
            TodoItem(
                label=f"Your plan: {what}{', ' + when if when else ''}",
                url=reverse("portal:case_plan", kwargs={"case_id": step.case_id}) + f"#step-{step.public_id}",
            )
        )
    return todos
