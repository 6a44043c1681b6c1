"""The name an email opens with (rapport.core.greeting). All names fictional."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.core.greeting import TITLES, greeting_name


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Jordan Pike", "Jordan"),
        ("Dr. Elena Varga", "Dr. Varga"),
        ("dr elena varga", "dr varga"),
        ("Mx Robin Lee Hart", "Mx Hart"),
        ("Prof. Ada", "Prof. Ada"),
        ("Dr.", "Dr."),
        ("Drew Barlow", "Drew"),
        ("  ", ""),
        ("", ""),
    ],
)
def test_the_first_word_or_a_title_with_the_surname(name, greeting):
    assert greeting_name(name) == greeting


words = st.text(alphabet=st.characters(categories=("L",)), min_size=1, max_size=12)


@given(st.lists(words, min_size=1, max_size=5))
def test_a_greeting_is_never_a_title_alone_when_there_is_more_to_the_name(parts):
    greeting = greeting_name(" ".join(parts))
    assert greeting
    if len(parts) > 1:
        assert greeting.rstrip(".").casefold() not in TITLES
