"""The "My data" registry: feature apps say what a client's data export holds of theirs.

Like :mod:`rapport.core.todo`, it lives in core because the apps that hold a client's data sit
below the portal (which builds the export) and may not import it; the portal reads the registry
and imports none of them. A feature app registers a provider in its ``AppConfig.ready``, with a
title and a one-line summary that the "My data" page lists before anything is built.

A provider is given the client and returns one :class:`ExportSection`: ``data`` for the export's
JSON file and ``rows`` for its readable PDF. Both hold only what the client may see of their own
record: never another client's items (a couple's partners are two clients), never staff-only
text such as a therapist's working summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExportRow:
    """One line of the PDF: a label, its value, and any further lines that belong to it."""

    label: str
    value: str = ""
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExportSection:
    key: str
    title: str
    # JSON-able (dicts, lists, strings, numbers, booleans, None); datetimes may be left to the
    # builder's encoder, which writes ISO 8601.
    data: Any
    rows: list[ExportRow] = field(default_factory=list)
    # Shown in the PDF above the rows: what the section is, in a sentence.
    intro: str = ""


# A provider is given the client (a ``rapport.clients.models.Client``).
Provider = Callable[[Any], ExportSection]


@dataclass(frozen=True)
class Registered:
    provider: Provider
    title: str
    summary: str


_registered: list[Registered] = []


def register(provider: Provider, *, title: str, summary: str) -> Provider:
    """Add a provider (once, however often ``ready`` runs); returns it."""
    if all(entry.provider is not provider for entry in _registered):
        _registered.append(Registered(provider=provider, title=title, summary=summary))
    return provider


def unregister(provider: Provider) -> None:
    _registered[:] = [entry for entry in _registered if entry.provider is not provider]


def registered() -> list[Registered]:
    """The registered providers, in the order they were registered (the order of INSTALLED_APPS)."""
    return list(_registered)
