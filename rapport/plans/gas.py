"""Goal Attainment Scaling: the Kiresuk & Sherman T-score over a set of goals, and per-goal change.

Each goal has five levels, set with the client before treatment (MEASURES.md §4.7): -2 much less
than expected, -1 somewhat less, 0 the expected outcome, +1 somewhat more, +2 much more. The
levels reached on all goals at one time combine into one standardised score:

    T = 50 + 10·Σ(wᵢ·xᵢ) / sqrt( (1 - rho)·Σwᵢ² + rho·(Σwᵢ)² )

with xᵢ the level of goal i, wᵢ its weight and rho the assumed correlation between goals (0.3 by
convention). Source: Kiresuk TJ, Sherman RE, Community Ment Health J 1968;4(6):443-453,
doi 10.1007/BF01530764; the formula and the default rho as in the gasr R package's ``calc_tscore``.

T is 50 when every goal ends exactly where it was expected to, above 50 when goals as a whole went
better than expected and below when worse. It is a summary of ratings agreed with the client, not
a judgement of the client or of the therapy.

Pure: no Django import.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

KIRESUK_SHERMAN = (
    "Kiresuk TJ, Sherman RE. Goal attainment scaling: a general method for evaluating comprehensive community "
    "mental health programs. Community Ment Health J 1968;4(6):443-453, doi 10.1007/BF01530764"
)

LOWEST_LEVEL = -2
HIGHEST_LEVEL = 2
EXPECTED_LEVEL = 0

# The conventional inter-goal correlation (Kiresuk & Sherman; the default of gasr's calc_tscore).
DEFAULT_RHO = 0.3

LEVEL_MEANINGS: Mapping[int, str] = {
    -2: "much less than expected",
    -1: "somewhat less than expected",
    0: "as expected",
    1: "somewhat more than expected",
    2: "much more than expected",
}


def check_level(level: object) -> int:
    """Return ``level`` if it is a whole number from -2 to +2, else raise ValueError naming it."""
    # bool is a subclass of int; True as a level is a mistake upstream, not +1.
    if isinstance(level, bool) or not isinstance(level, int) or not LOWEST_LEVEL <= level <= HIGHEST_LEVEL:
        raise ValueError(f"a goal attainment level must be a whole number from -2 to +2, got {level!r}")
    return level


def check_weight(weight: object) -> int:
    """Return ``weight`` if it is a positive whole number, else raise ValueError naming it."""
    if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
        raise ValueError(f"a goal weight must be a positive whole number, got {weight!r}")
    return weight


def check_rho(rho: object) -> float:
    """Return ``rho`` as a float if it is at least 0 and below 1, else raise ValueError naming it."""
    if isinstance(rho, bool) or not isinstance(rho, int | float) or not (math.isfinite(rho) and 0 <= rho < 1):
        raise ValueError(f"the inter-goal correlation rho must be at least 0 and below 1, got {rho!r}")
    return float(rho)


def t_score(levels: Sequence[int], weights: Sequence[int] | None = None, rho: float = DEFAULT_RHO) -> float:
    """The Kiresuk & Sherman (1968) goal attainment T-score of one set of goals at one time.

    ``levels`` holds each goal's level (-2..+2); ``weights``, when given, one positive whole number
    per goal in the same order (None weighs every goal 1); ``rho`` is the assumed correlation
    between goals, 0 ≤ rho < 1. Returns T = 50 + 10·Σwx / sqrt((1 - rho)·Σw² + rho·(Σw)²), unrounded.

    Examples (MEASURES.md §4.7): levels (+2, 0, -1) with weights (3, 2, 1) give 61.02 (gas-04);
    one goal with weight 1 gives 50 + 10·x, since the denominator is 1. Raises ValueError, naming
    the bad value, for no goals, a level outside -2..+2, a weight that is not a positive whole
    number, a weights list of another length, or rho outside [0, 1).
    """
    levels = [check_level(level) for level in levels]
    if not levels:
        raise ValueError("a goal attainment T-score needs at least one goal")
    if weights is None:
        weights = [1] * len(levels)
    else:
        weights = [check_weight(weight) for weight in weights]
        if len(weights) != len(levels):
            raise ValueError(f"each goal needs one weight: {len(levels)} levels but {len(weights)} weights")
    rho = check_rho(rho)
    # Sums of whole numbers stay exact, so the order of the goals cannot change the result.
    weighted_sum = sum(w * x for w, x in zip(weights, levels, strict=True))
    sum_of_squares = sum(w * w for w in weights)
    total_weight = sum(weights)
    # Positive weights and rho < 1 keep the denominator above zero.
    denominator = math.sqrt((1 - rho) * sum_of_squares + rho * total_weight**2)
    return 50 + 10 * weighted_sum / denominator


def goal_change(baseline_level: int, current_level: int) -> int:
    """How many levels one goal moved: ``current_level - baseline_level``, from -4 to +4.

    Positive means the goal moved towards (or past) what was hoped for. Both levels are checked as
    in :func:`t_score`. A move of one level is a step on the scale agreed with the client
    (Kiresuk & Sherman 1968), not a measured quantity: it is never converted to a percentage.
    """
    return check_level(current_level) - check_level(baseline_level)


@dataclass(frozen=True)
class Rating:
    """The levels of a set of goals rated together at one time (for example in one session).

    ``levels`` maps a goal's key (any hashable: a public id, a name) to its level. A client's and a
    therapist's ratings are separate series: do not mix them in one ``Rating``. ``when`` is a date
    or a datetime; the ratings of one series must all use the same kind, so that they sort.
    """

    when: date | datetime
    levels: Mapping[Hashable, int]


@dataclass(frozen=True)
class SeriesPoint:
    when: date | datetime
    t_score: float
    goals: tuple[Hashable, ...]  # the goals this T-score covers, in the rating's order


def t_score_series(ratings: Sequence[Rating], weights: Mapping[Hashable, int] | None = None, rho: float = DEFAULT_RHO) -> list[SeriesPoint]:
    """The T-score of each rating, oldest first.

    Each point covers exactly the goals rated at that time: a goal left unrated is not carried
    forward from an earlier rating, since that would report a level nobody gave. Points over
    different sets of goals are therefore not strictly comparable, and ``goals`` says which each
    covers. ``weights`` maps goal keys to weights (None weighs every goal 1); a rated goal without a
    weight is an error. A rating with no goals raises ValueError, as in :func:`t_score`.
    """
    rho = check_rho(rho)
    points = []
    for rating in sorted(ratings, key=lambda rating: rating.when):
        goals = tuple(rating.levels)
        if weights is None:
            goal_weights = None
        else:
            missing = [goal for goal in goals if goal not in weights]
            if missing:
                raise ValueError(f"no weight given for goal {missing[0]!r}")
            goal_weights = [weights[goal] for goal in goals]
        score = t_score([rating.levels[goal] for goal in goals], goal_weights, rho)
        points.append(SeriesPoint(when=rating.when, t_score=score, goals=goals))
    return points
