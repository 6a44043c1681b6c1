"""Scoring one administration of an instrument: plain values in, a frozen ``Score`` out.

``score(instrument, answers)`` follows the instrument's own data (instruments/*.yaml): the sum of the
scored items (reverse-scored items flipped), times the published multiplier (WHO-5: times 4), the
published or Rapport rule for missing answers, severity bands, cut-offs, risk items and item flags.

Two promises matter more than the rest:

- Bad input raises ``AnswerError`` (a ``ValueError``) naming the item and the allowed values, and
  nothing partial is returned.
- A risk answer is never lost: risk items are read even when the total cannot be scored, and a
  risk item left unanswered is reported in ``risk_unanswered`` so a person can ask (MEASURES.md §1.4:
  "an unanswered item 9 counts as unknown risk needing a human" [design]).

Pure: no Django import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from rapport.measures.instruments import Instrument, Item


class AnswerError(ValueError):
    """An answer the instrument cannot take: an unknown item, or a value outside the item's options."""

    def __init__(self, instrument: str, item: str, message: str) -> None:
        self.instrument = instrument
        self.item = item
        super().__init__(f"{instrument}: {item}: {message}")


@dataclass(frozen=True)
class Score:
    instrument: str
    total: int | None  # None when not scorable; after the multiplier (WHO-5: 0-100)
    band: str | None  # snake_case band key, e.g. "moderately_severe"; None without bands or without a total
    risk: tuple[str, ...]  # ids of risk items whose answer fired, in item order
    scorable: bool
    subscales: Mapping[str, int | None] = field(default_factory=dict)
    subscale_bands: Mapping[str, str | None] = field(default_factory=dict)
    raw_total: int | None = None  # before the multiplier
    prorated: bool = False
    missing: tuple[str, ...] = ()  # scored items left unanswered
    risk_unanswered: tuple[str, ...] = ()  # risk items left unanswered: unknown risk, ask
    cutoffs: tuple[str, ...] = ()  # keys of the cut-offs the total meets
    flags: tuple[str, ...] = ()  # keys of item flags that fired (WHO-5: an item answered 0 or 1)
    reason: str | None = None  # why there is no total, in words

    @property
    def needs_attention(self) -> bool:
        """A risk item fired or was left unanswered: a person should look now, whatever the total."""
        return bool(self.risk or self.risk_unanswered)


def _checked(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, int]:
    """The choice answers that were given, each validated; raise AnswerError on the first bad answer of any kind."""
    known = {item.id: item for item in instrument.items}
    given: dict[str, int] = {}
    for item_id in answers:
        if item_id not in known:
            raise AnswerError(instrument.key, str(item_id), f"unknown item; this instrument's items are {', '.join(known)}")
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            continue
        if item.kind == "text":
            if not isinstance(value, str):
                raise AnswerError(instrument.key, item.id, f"expected free text, got {type(value).__name__}")
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise AnswerError(instrument.key, item.id, f"expected an integer, one of {_allowed(item)}; got {value!r}")
        if value not in item.values:
            raise AnswerError(instrument.key, item.id, f"{value} is not an allowed value; allowed: {_allowed(item)}")
        given[item.id] = value
    return given


def _allowed(item: Item) -> str:
    return ", ".join(f"{option.value} ({option.label})" for option in sorted(item.options, key=lambda option: option.value))


def _points(item: Item, value: int) -> int:
    # A reverse-scored item counts from the other end of its own range.
    return item.min_value + item.max_value - value if item.reverse else value


def _half_up(value: Fraction) -> int:
    return int((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def score(instrument: Instrument, answers: Mapping[str, object]) -> Score:
    """Score one set of answers (item id -> value; None or a blank text means unanswered).

    The total is the sum of the scored items' points times ``scoring.multiplier``. Missing answers
    follow ``scoring.missing``: ``all_required`` gives no total when any scored item is missing;
    ``prorate`` (PHQ-9, MEASURES.md §1.5 [design], after qscorer citing Arrieta et al. 2017) fills up
    to ``max_missing`` of the listed items with the mean of the answered listed items, rounds the
    total half up and marks it prorated; an item outside that list (PHQ-9 item 9) is never imputed.
    """
    given = _checked(instrument, answers)
    scored = instrument.scored_items
    points = {item.id: _points(item, given[item.id]) for item in scored if item.id in given}
    missing = tuple(item.id for item in scored if item.id not in given)

    risk = tuple(rule.item for rule in instrument.risk if rule.item in given and given[rule.item] >= rule.at_least)
    risk_unanswered = tuple(rule.item for rule in instrument.risk if rule.item not in given)
    flags = tuple(flag.key for flag in instrument.flags if any(ref in given and given[ref] in flag.values for ref in flag.items))

    rule = instrument.scoring.missing
    multiplier = instrument.scoring.multiplier
    raw_total: int | None = None
    prorated = False
    reason: str | None = None
    if not missing:
        raw_total = sum(points.values())
    elif rule.rule == "prorate":
        outside = [item_id for item_id in missing if item_id not in rule.items]
        pool = [item_id for item_id in rule.items if item_id in points]
        if outside:
            reason = f"{', '.join(outside)} unanswered; it is never estimated from the other answers"
        elif len(missing) > rule.max_missing:
            reason = f"{len(missing)} items unanswered; at most {rule.max_missing} can be estimated"
        else:
            mean = Fraction(sum(points[item_id] for item_id in pool), len(pool))
            raw_total = _half_up(sum(points.values()) + mean * len(missing))
            prorated = True
    else:
        reason = f"{len(missing)} of {len(scored)} scored items unanswered; every one is needed"

    total = raw_total * multiplier if raw_total is not None else None
    band = None
    if total is not None and instrument.bands is not None:
        found = instrument.bands.find(total)
        band = found.key if found else None
    cutoffs = tuple(cutoff.key for cutoff in instrument.cutoffs if total is not None and cutoff.met(total))

    # Subscales take no proration: each is reported only when all of its items were answered.
    subscales: dict[str, int | None] = {}
    subscale_bands: dict[str, str | None] = {}
    for subscale in instrument.scoring.subscales:
        complete = all(item_id in points for item_id in subscale.items)
        value = sum(points[item_id] for item_id in subscale.items) * subscale.multiplier if complete else None
        subscales[subscale.key] = value
        found_band = subscale.bands.find(value) if subscale.bands is not None and value is not None else None
        subscale_bands[subscale.key] = found_band.key if found_band else None

    return Score(
        instrument=instrument.key,
        total=total,
        band=band,
        risk=risk,
        scorable=total is not None,
        subscales=subscales,
        subscale_bands=subscale_bands,
        raw_total=raw_total,
        prorated=prorated,
        missing=missing,
        risk_unanswered=risk_unanswered,
        cutoffs=cutoffs,
        flags=flags,
        reason=reason,
    )
