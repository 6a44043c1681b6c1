"""The portal's "Things to do" entries for plans: per case, the items waiting for this client's
answer, and each action step still open for them (their own steps and the steps for both partners).

The labels carry no clinical text: the home page shows what there is to do and when, and the plan
page, which records the read, shows the words. So these reads decrypt nothing and record nothing.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import dateformat, timezone

from rapport.clients.models import Client
from rapport.core.todo import TodoItem
from rapport.plans.selectors import plan_work_for


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
