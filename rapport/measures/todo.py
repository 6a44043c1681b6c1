"""The portal's "Things to do" entries for check-ins: one per check-in the client can answer now."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from rapport.clients.models import Client
from rapport.core.todo import TodoItem
from rapport.measures import instruments
from rapport.measures.respondent import administrations_open_for


def checkin_todos(client: Client) -> list[TodoItem]:
    # Reversed by name: the portal sits above this app and is not imported from here.
    return [
        TodoItem(
            label=f"Answer your check-in: {instruments.load(row.instrument_key).name}",
            url=reverse("portal:checkin", kwargs={"administration_id": row.public_id}),
            due=row.due_at,
        )
        for row in administrations_open_for(client, now=timezone.now())
    ]
