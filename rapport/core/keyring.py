from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from rapport.core.crypto import Keyring


@lru_cache(maxsize=4)
def _parse_cached(spec: str) -> Keyring:
    return Keyring.parse(spec)


def active_keyring() -> Keyring:
    """The keyring from settings, parsed once per distinct configuration (tests may swap it)."""
    return _parse_cached(settings.RAPPORT_ENCRYPTION_KEYS)
