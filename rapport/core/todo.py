"""The "Things to do" registry: feature apps tell the client portal what a client has to do.

It lives in core, not in the portal, because the apps that know what is due (check-ins, consents,
plans) sit below the portal in the layers and may not import it; the portal reads the registry and
imports none of them. A feature app registers its provider in its ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class TodoItem:
    label: str
    url: str
    due: datetime | None = None


# A provider is given the client (a ``rapport.clients.models.Client``) and returns that client's items.
Provider = Callable[[Any], list[TodoItem]]

_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a provider (once, however often ``ready`` runs); returns it, so it can be a decorator."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def unregister(provider: Provider) -> None:
    if provider in _providers:
        _providers.remove(provider)


def todos_for(client: Any) -> list[TodoItem]:
    """Every provider's items for this client, the soonest due first and undated ones last."""
    items = [item for provider in _providers for item in provider(client)]
    # Python's sort is stable: undated items keep the order their providers gave them.
    return sorted(items, key=lambda item: (item.due is None, item.due or datetime.min.replace(tzinfo=UTC)))
