"""What other apps need to hear about an appointment's life, without scheduling importing them.

Measures sits above scheduling in the layers (its check-ins follow appointments), so scheduling
cannot call it. Instead an app registers a hook in its ``AppConfig.ready`` and the scheduling
services call every hook inside their own transaction: a hook that fails rolls the change back,
so a cancelled session never keeps a check-in open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# A hook is given the appointment (a ``rapport.scheduling.models.Appointment``) after the change;
# what it returns is ignored.
Hook = Callable[[Any], object]

_cancelled: list[Hook] = []
_moved: list[Hook] = []
_missed: list[Hook] = []


def on_cancelled(hook: Hook) -> Hook:
    """Call ``hook`` whenever an appointment is cancelled (once, however often ``ready`` runs)."""
    if hook not in _cancelled:
        _cancelled.append(hook)
    return hook


def on_moved(hook: Hook) -> Hook:
    """Call ``hook`` whenever an appointment moves to another time."""
    if hook not in _moved:
        _moved.append(hook)
    return hook


def on_missed(hook: Hook) -> Hook:
    """Call ``hook`` whenever an appointment is marked as missed (a no-show)."""
    if hook not in _missed:
        _missed.append(hook)
    return hook


def cancelled(appointment: Any) -> None:
    for hook in _cancelled:
        hook(appointment)


def moved(appointment: Any) -> None:
    for hook in _moved:
        hook(appointment)


def missed(appointment: Any) -> None:
    for hook in _missed:
        hook(appointment)
