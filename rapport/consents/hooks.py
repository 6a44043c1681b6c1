"""What other apps need to hear when a client's choice on a consent item changes.

Measures sits above consents (a paused client gets no check-ins), so consents cannot call it.
An app registers a hook in its ``AppConfig.ready``; every consent service that records a decision
calls the hooks inside its own transaction, so a hook that fails rolls the decision back and the
two never disagree (a pause recorded while the client's check-ins stay open, say).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Decided:
    """One new decision, with where the item stood for the client just before it."""

    decision: Any  # a rapport.consents.models.ItemDecision
    # The client's previous decision on the item: True, False, or None when they never decided.
    before: bool | None

    @property
    def changed(self) -> bool:
        return self.before is not self.decision.granted


Hook = Callable[[Decided], object]

_decided: list[Hook] = []


def on_decided(hook: Hook) -> Hook:
    """Call ``hook`` for every decision recorded from now on (once, however often ``ready`` runs)."""
    if hook not in _decided:
        _decided.append(hook)
    return hook


def decided(event: Decided) -> None:
    for hook in _decided:
        hook(event)
