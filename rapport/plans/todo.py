"""The portal's "Things to do" entry for plans: one per case whose plan waits for this client's answer."""

from __future__ import annotations

from django.urls import reverse

from rapport.clients.models import Client
from rapport.core.todo import TodoItem
from rapport.plans.selectors import items_awaiting_answer


def plan_todos(client: Client) -> list[TodoItem]:
    # Reversed by name: the portal sits above this app and is not imported from here.
    return [
        TodoItem(
            label=f"Your plan: {count} item{'s' if count != 1 else ''} waiting for your answer",
            url=reverse("portal:case_plan", kwargs={"case_id": case_id}),
        )
        for case_id, count in items_awaiting_answer(client).items()
    ]
