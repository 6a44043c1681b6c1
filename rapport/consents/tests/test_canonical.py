"""The canonical hash of a consent version, and the loose match of a typed name (pure, no database)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.consents.canonical import CanonicalItem, canonical_bytes, content_hash, normalise_text
from rapport.consents.names import typed_name_matches

keys = st.from_regex(r"[a-z][a-z_]{0,12}", fullmatch=True)
texts = st.text(min_size=1, max_size=60).filter(lambda t: t.strip() != "")


@st.composite
def versions(draw: st.DrawFn) -> tuple[str, list[CanonicalItem]]:
    item_keys = draw(st.lists(keys, min_size=1, max_size=6, unique=True))
    items = [CanonicalItem(key=k, text=draw(texts), required=draw(st.booleans()), position=n) for n, k in enumerate(item_keys, 1)]
    return draw(texts), items


def _as_dicts(items: list[CanonicalItem], seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    shuffled = []
    for item in items:
        pairs = [("key", item.key), ("text", item.text), ("required", item.required), ("position", item.position)]
        rng.shuffle(pairs)
        shuffled.append(dict(pairs))
    rng.shuffle(shuffled)
    return shuffled


@given(versions(), st.integers())
def test_the_hash_ignores_the_order_of_keys_and_of_the_list(version, seed):
    content, items = version
    assert content_hash(content=content, items=_as_dicts(items, seed)) == content_hash(content=content, items=items)


@given(versions(), st.data())
def test_changing_any_items_text_changes_the_hash(version, data):
    content, items = version
    index = data.draw(st.integers(0, len(items) - 1))
    new_text = data.draw(texts.filter(lambda t: normalise_text(t) != normalise_text(items[index].text)))
    changed = [*items[:index], CanonicalItem(items[index].key, new_text, items[index].required, items[index].position), *items[index + 1 :]]
    assert content_hash(content=content, items=changed) != content_hash(content=content, items=items)


@given(versions(), st.data())
def test_flipping_any_required_flag_changes_the_hash(version, data):
    content, items = version
    index = data.draw(st.integers(0, len(items) - 1))
    item = items[index]
    changed = [*items[:index], CanonicalItem(item.key, item.text, not item.required, item.position), *items[index + 1 :]]
    assert content_hash(content=content, items=changed) != content_hash(content=content, items=items)


@given(versions(), texts)
def test_changing_the_text_of_the_version_changes_the_hash(version, other):
    content, items = version
    if normalise_text(other) != normalise_text(content):
        assert content_hash(content=other, items=items) != content_hash(content=content, items=items)


def test_reordering_items_changes_the_hash_because_the_client_read_them_in_that_order():
    a = CanonicalItem("treatment", "Therapy", True, 1)
    b = CanonicalItem("email_reminders", "Emails", False, 2)
    swapped = [CanonicalItem(a.key, a.text, a.required, 2), CanonicalItem(b.key, b.text, b.required, 1)]
    assert content_hash(content="x", items=[a, b]) != content_hash(content="x", items=swapped)


def test_line_endings_and_unicode_spelling_do_not_change_the_hash():
    composed, decomposed = "Zo\u00eb agrees.\r\nYes.", "Zoe\u0308 agrees.\nYes."
    item = [CanonicalItem("treatment", "Therapy", True, 1)]
    assert content_hash(content=composed, items=item) == content_hash(content=decomposed, items=item)


def test_the_serialisation_is_pinned():
    # Pinned bytes: changing them silently would make every stored signature hash unverifiable.
    items = [CanonicalItem("treatment", "I agree.", True, 1)]
    assert canonical_bytes(content="Read me.", items=items) == (
        b'{"content":"Read me.","format":1,"items":[{"key":"treatment","position":1,"required":true,"text":"I agree."}]}'
    )


def test_duplicate_item_keys_are_refused():
    with pytest.raises(ValueError, match="unique"):
        content_hash(content="x", items=[CanonicalItem("a", "1", False, 1), CanonicalItem("a", "2", False, 2)])


@pytest.mark.parametrize(
    "typed",
    ["Cora Client", "cora client", "  CORA   CLIENT ", "Córa Client.", "coraclient", "Cori Client"],
)
def test_a_typed_name_matches_loosely(typed):
    assert typed_name_matches(typed, full_name="Cora Client", preferred_name="Cori")


@pytest.mark.parametrize("typed", ["", "Cora", "Client", "Pat Partner", "Cora Clients", "Cori"])
def test_a_typed_name_that_is_not_the_clients_is_refused(typed):
    assert not typed_name_matches(typed, full_name="Cora Client", preferred_name="Cori")


def test_apostrophes_and_hyphens_are_ignored():
    assert typed_name_matches("Sam O'Neil-Park", full_name="Sam O\u2019Neil Park")
