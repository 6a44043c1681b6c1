"""How a short text reads, offline: VADER's lexicon with a few everyday phrases of our own.

VADER (Hutto CJ, Gilbert E. VADER: a parsimonious rule-based model for sentiment analysis of social
media text. ICWSM 2014) ships its lexicon inside the ``vaderSentiment`` package (MIT licence), so
nothing is fetched at run time. Its compound score runs from -1 (most negative) to +1; its authors
read ±0.05 as the edge of neutral.

VADER scores single words. Phrases people use about how they are doing ("falling apart", "turned
a corner") carry their feeling in the phrase, not the words, so VADER alone reads them as nearly
neutral. ``PHRASES`` lists a few such phrases with a valence on VADER's -4..+4 scale, chosen by the
Rapport project; they are Rapport's own and can be wrong. A finding always quotes the sentences
that carried the feeling, so the therapist reads the words, not just the number.

This is a hint for a conversation, never a reading of the person. Pure: no Django import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

VADER_SOURCE = "Hutto CJ, Gilbert E. VADER: a parsimonious rule-based model for sentiment analysis of social media text. ICWSM 2014"

# Rapport's own additions, on VADER's scale (-4 to +4).
PHRASES: dict[str, float] = {
    "falling apart": -2.6,
    "can't cope": -2.5,
    "cannot cope": -2.5,
    "can't get out of bed": -2.4,
    "at breaking point": -2.8,
    "hanging by a thread": -2.6,
    "getting worse": -2.0,
    "no point": -2.0,
    "worn out": -1.8,
    "fed up": -1.8,
    "on edge": -1.6,
    "getting better": 2.0,
    "turned a corner": 2.2,
    "back on track": 1.8,
    "feel like myself": 1.8,
    "feeling like myself": 1.8,
    "on top of things": 1.8,
    "more settled": 1.6,
}

# Words VADER scores that, in a note about one's week, only mark sincerity: "Honestly everything
# is falling apart" should not read as mild because VADER gives "honestly" +2.0.
NEUTRAL_WORDS = ("honestly", "frankly")

# A sentence carries the feeling of the note when it reads at least this far from neutral.
PHRASE_MIN = 0.3

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _token(phrase: str) -> str:
    return re.sub(r"[^a-z]+", "_", phrase)


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update({_token(phrase): value for phrase, value in PHRASES.items()})
    for word in NEUTRAL_WORDS:
        analyzer.lexicon.pop(word, None)
    return analyzer


def _joined(text: str) -> str:
    """The text with each listed phrase as one token, so the lexicon can give it its valence."""
    result = text.replace("\u2019", "'")
    for phrase in sorted(PHRASES, key=len, reverse=True):
        result = re.sub(rf"\b{re.escape(phrase)}\b", _token(phrase), result, flags=re.IGNORECASE)
    return result


def compound(text: str) -> float:
    return float(_analyzer().polarity_scores(_joined(text))["compound"])


@dataclass(frozen=True)
class Affect:
    compound: float
    # The sentences, as written, that read in the same direction as the whole.
    phrases: tuple[str, ...]


def affect(text: str) -> Affect:
    """The feeling of the whole text and the sentences that carry it."""
    text = text.strip()
    if not text:
        return Affect(0.0, ())
    whole = compound(text)
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    carrying = tuple(s for s in sentences if abs(c := compound(s)) >= PHRASE_MIN and (c > 0) == (whole > 0))
    return Affect(whole, carrying)
