"""The canonical form of a consent version and its SHA-256 (no Django).

A signature copies the hash of what the client was shown, so the serialisation must not depend on
anything incidental: the order of keys in a mapping, Windows line endings from a pasted text, or
two Unicode spellings of the same accented letter. Item order is not incidental — it is the order
the client read them in — so items are sorted by their position, not by key.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# Bumped if the serialisation ever changes, so old hashes stay verifiable against the old form.
CANONICAL_FORMAT = 1


@dataclass(frozen=True)
class CanonicalItem:
    key: str
    text: str
    required: bool
    position: int


def normalise_text(text: str) -> str:
    """NFC, ``\\n`` line endings, no trailing whitespace at either end."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _as_item(item: CanonicalItem | Mapping[str, object]) -> CanonicalItem:
    if isinstance(item, CanonicalItem):
        return item
    position = item["position"]
    if not isinstance(position, int):
        raise TypeError("an item's position must be an integer")
    return CanonicalItem(key=str(item["key"]), text=str(item["text"]), required=bool(item["required"]), position=position)


def canonical_bytes(*, content: str, items: Iterable[CanonicalItem | Mapping[str, object]]) -> bytes:
    """The exact bytes that are hashed: compact, key-sorted JSON in UTF-8."""
    ordered = sorted((_as_item(item) for item in items), key=lambda item: (item.position, item.key))
    keys = [item.key for item in ordered]
    if len(set(keys)) != len(keys):
        raise ValueError("item keys must be unique within a version")
    document = {
        "format": CANONICAL_FORMAT,
        "content": normalise_text(content),
        "items": [
            {"key": item.key, "position": item.position, "required": item.required, "text": normalise_text(item.text)} for item in ordered
        ],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_hash(*, content: str, items: Iterable[CanonicalItem | Mapping[str, object]]) -> str:
    """Hex SHA-256 of :func:`canonical_bytes`: what a signature says the client agreed to."""
    return hashlib.sha256(canonical_bytes(content=content, items=items)).hexdigest()
