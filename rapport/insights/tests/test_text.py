"""How a note reads: VADER with Rapport's phrases, and the sentences quoted as evidence."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rapport.insights.text import PHRASES, affect, compound


def test_a_phrase_vader_reads_as_neutral_carries_its_feeling():
    # VADER alone gives "everything is falling apart" about -0.15: neither word is in its lexicon.
    assert compound("Everything is falling apart") < -0.4
    assert compound("I turned a corner this week") > 0.4


def test_the_sentences_that_carry_the_feeling_are_quoted_as_written():
    note = affect("Everything is falling apart. Work was fine I guess.")
    assert note.compound < -0.4
    assert note.phrases == ("Everything is falling apart.",)


def test_a_curly_apostrophe_reads_like_a_straight_one():
    assert compound("I can\u2019t cope with the kids") == compound("I can't cope with the kids") < -0.4


def test_an_empty_note_is_neutral_with_nothing_to_quote():
    assert affect("   ") == affect("")
    assert affect("").compound == 0.0
    assert affect("").phrases == ()


@given(st.text(max_size=200))
def test_any_text_reads_between_minus_one_and_one_and_quotes_only_its_own_sentences(text):
    note = affect(text)
    assert -1.0 <= note.compound <= 1.0
    assert all(phrase in text for phrase in note.phrases)


def test_every_phrase_is_lower_case_and_within_vaders_scale():
    assert all(phrase == phrase.lower() and -4 <= value <= 4 for phrase, value in PHRASES.items())
