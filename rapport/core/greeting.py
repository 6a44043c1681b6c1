"""The name an email opens with ("Hello Jordan,"), for every email Rapport sends (no Django).

The first word of a name is a person's given name often enough for a greeting, but not when it is a
title: "Dr. Elena Varga" would be greeted as "Hello Dr.,". A title keeps its surname instead.
"""

from __future__ import annotations

TITLES = frozenset({"dr", "doctor", "prof", "professor", "mr", "mrs", "ms", "miss", "mx", "rev", "sir", "dame"})


def greeting_name(name: str) -> str:
    """ "Jordan" for "Jordan Pike", "Dr. Varga" for "Dr. Elena Varga", "" for a blank name."""
    words = name.split()
    if not words:
        return ""
    if len(words) > 1 and words[0].rstrip(".").casefold() in TITLES:
        return f"{words[0]} {words[-1]}"
    return words[0]
