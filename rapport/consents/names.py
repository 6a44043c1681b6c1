"""Whether a typed signature name is the client's name (no Django).

The typed name is a deliberate act, not an identity check (the client is already signed in), so
the match is loose on form and strict on substance. Ignored: case, accents, punctuation and
spacing ("cora  o'neil" matches "Cora O'Neil" stored with a curly apostrophe; "Zoe" matches
"Zoë"). Accepted: the full name, or the preferred name followed by the full name's last word
("Cori Client" for Cora Client called Cori). Refused: anything else, including the first name
alone, so that a name typed by habit into the wrong box, or another person's name, does not pass.
"""

from __future__ import annotations

import unicodedata


def name_tokens(name: str) -> tuple[str, ...]:
    """Lower-case words of a name without accents or punctuation."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    kept = "".join(ch if ch.isalnum() else " " for ch in decomposed if not unicodedata.combining(ch))
    return tuple(kept.split())


def typed_name_matches(typed: str, *, full_name: str, preferred_name: str = "") -> bool:
    """True when ``typed`` is the client's full name, or preferred name plus last name, loosely."""
    # Compared without spaces: "coraclient" and "Cora Client" are the same act of signing.
    typed_joined = "".join(name_tokens(typed))
    full = name_tokens(full_name)
    if not typed_joined or not full:
        return False
    accepted = {"".join(full)}
    preferred = name_tokens(preferred_name)
    if preferred and len(full) > 1:
        accepted.add("".join((*preferred, full[-1])))
    return typed_joined in accepted
