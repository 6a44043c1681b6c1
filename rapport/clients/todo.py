"""The portal's "Things to do" entry for the intake form, shown until the client first sends it."""

from __future__ import annotations

from django.urls import reverse

from rapport.clients.intake import intake_submitted
from rapport.clients.models import Client
from rapport.core.todo import TodoItem

INTAKE_LABEL = "Tell us about yourself (intake form)"


def intake_todos(client: Client) -> list[TodoItem]:
    if intake_submitted(client):
        return []
    # Reversed by name: the portal sits above this app and is not imported from here.
    return [TodoItem(label=INTAKE_LABEL, url=reverse("portal:intake"))]
