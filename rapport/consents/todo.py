"""The portal's "Things to do" entries for consents: one per document the client should sign."""

from __future__ import annotations

from django.urls import reverse

from rapport.clients.models import Client
from rapport.consents.selectors import needs_consent
from rapport.core.todo import TodoItem


def consent_todos(client: Client) -> list[TodoItem]:
    # Reversed by name: the portal sits above this app and is not imported from here.
    return [
        TodoItem(
            label=f"Read and sign: {version.document.title}",
            url=reverse("portal:consent_sign", kwargs={"version_id": version.public_id}),
        )
        for version in needs_consent(client)
    ]
