"""Goal Attainment Scaling: worked examples by hand, properties by hypothesis, and refused input.

The formula under test (Kiresuk & Sherman 1968, doi 10.1007/BF01530764; as in the gasr R package's
calc_tscore, MEASURES.md §4.7):

    T = 50 + 10 * sum(w * x) / sqrt((1 - rho) * sum(w ** 2) + rho * sum(w) ** 2),   rho = 0.3
"""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.plans.gas import (
    DEFAULT_RHO,
    LEVEL_MEANINGS,
    Rating,
    goal_change,
    t_score,
    t_score_series,
)

# --- Worked examples, each computed by hand from the formula above ---


def test_gas_04_three_weighted_goals():
    # Levels (+2, 0, -1), weights (3, 2, 1): sum(w*x) = 6 + 0 - 1 = 5; sum(w**2) = 9 + 4 + 1 = 14;
    # sum(w) = 6; denominator sqrt(0.7 * 14 + 0.3 * 36) = sqrt(9.8 + 10.8) = sqrt(20.6) = 4.53872;
    # T = 50 + 10 * 5 / 4.53872 = 50 + 11.0163 = 61.02.
    assert t_score([2, 0, -1], [3, 2, 1]) == pytest.approx(61.0163, abs=1e-4)
    assert round(t_score([2, 0, -1], [3, 2, 1]), 2) == 61.02


def test_gas_06_reproduces_the_gasr_documentation_example():
    # Levels (-2, 0, -1, 2, 0, 1), weights (3, 5, 1, 4, 2, 6): sum(w*x) = -6 + 0 - 1 + 8 + 0 + 6 = 7;
    # sum(w**2) = 9 + 25 + 1 + 16 + 4 + 36 = 91; sum(w) = 21; denominator
    # sqrt(0.7 * 91 + 0.3 * 441) = sqrt(63.7 + 132.3) = sqrt(196) = 14; T = 50 + 70 / 14 = 55.
    assert t_score([-2, 0, -1, 2, 0, 1], [3, 5, 1, 4, 2, 6]) == pytest.approx(55.0, abs=1e-9)


@pytest.mark.parametrize(("level", "expected"), [(-2, 30.0), (-1, 40.0), (0, 50.0), (1, 60.0), (2, 70.0)])
def test_one_goal_of_weight_one_moves_ten_points_per_level(level, expected):
    # One goal, w = 1: the denominator is sqrt(0.7 * 1 + 0.3 * 1) = 1, so T = 50 + 10 * x.
    assert t_score([level]) == pytest.approx(expected, abs=1e-9)
    assert t_score([level], [1]) == pytest.approx(expected, abs=1e-9)


def test_one_goal_of_any_weight_is_the_same_as_weight_one():
    # One goal, w = 4: sum(w*x) = 4x; denominator sqrt(0.7 * 16 + 0.3 * 16) = 4; T = 50 + 10x.
    assert t_score([-1], [4]) == pytest.approx(40.0, abs=1e-9)


def test_all_goals_as_expected_is_fifty():
    # Every x = 0 makes the numerator 0 whatever the weights: T = 50.
    assert t_score([0, 0, 0, 0]) == 50.0
    assert t_score([0, 0], [5, 1], rho=0.0) == 50.0


def test_two_unweighted_goals_one_level_above_expectation():
    # Levels (1, 1), w = 1: sum(w*x) = 2; denominator sqrt(0.7 * 2 + 0.3 * 4) = sqrt(2.6) = 1.61245;
    # T = 50 + 20 / 1.61245 = 62.40.
    assert t_score([1, 1]) == pytest.approx(62.4035, abs=1e-4)


def test_rho_zero_treats_goals_as_independent():
    # rho = 0, four unweighted goals at +1: denominator sqrt(4) = 2; T = 50 + 40 / 2 = 70.
    # With the default rho = 0.3 the same goals give sqrt(0.7 * 4 + 0.3 * 16) = sqrt(7.6) = 2.75681,
    # T = 50 + 40 / 2.75681 = 64.51: assuming the goals move together makes the same ratings count less.
    assert t_score([1, 1, 1, 1], rho=0) == pytest.approx(70.0, abs=1e-9)
    assert t_score([1, 1, 1, 1]) == pytest.approx(64.5095, abs=1e-4)


def test_default_rho_is_the_conventional_point_three():
    assert DEFAULT_RHO == 0.3
    assert t_score([2, 0, -1], [3, 2, 1]) == t_score([2, 0, -1], [3, 2, 1], rho=0.3)


def test_level_meanings_cover_the_five_levels():
    assert sorted(LEVEL_MEANINGS) == [-2, -1, 0, 1, 2]
    assert LEVEL_MEANINGS[0] == "as expected"


def test_goal_change_is_current_minus_baseline():
    assert goal_change(-2, 1) == 3
    assert goal_change(1, -1) == -2
    assert goal_change(0, 0) == 0
    assert goal_change(-2, 2) == 4


def test_series_scores_each_rating_over_the_goals_it_rated_oldest_first():
    later = Rating(when=date(2026, 3, 1), levels={"sleep": 1, "walks": 0})
    earlier = Rating(when=date(2026, 1, 5), levels={"sleep": -1, "walks": -2})
    series = t_score_series([later, earlier], weights={"sleep": 3, "walks": 1})
    assert [point.when for point in series] == [date(2026, 1, 5), date(2026, 3, 1)]
    # Earlier: sum(w*x) = -3 - 2 = -5; denominator sqrt(0.7 * 10 + 0.3 * 16) = sqrt(11.8) = 3.43511;
    # T = 50 - 50 / 3.43511 = 35.44. Later: sum(w*x) = 3; T = 50 + 30 / 3.43511 = 58.73.
    assert series[0].t_score == pytest.approx(35.4445, abs=1e-4)
    assert series[1].t_score == pytest.approx(58.7333, abs=1e-4)
    assert series[0].goals == ("sleep", "walks")


def test_series_does_not_carry_an_unrated_goal_forward():
    first = Rating(when=date(2026, 1, 5), levels={"sleep": 2, "walks": 2})
    second = Rating(when=date(2026, 2, 5), levels={"walks": 0})
    series = t_score_series([first, second])
    assert series[1].goals == ("walks",)
    assert series[1].t_score == 50.0


def test_series_of_no_ratings_is_empty():
    assert t_score_series([]) == []


# --- Properties ---

levels_st = st.integers(min_value=-2, max_value=2)
weights_st = st.integers(min_value=1, max_value=100)
rho_st = st.floats(min_value=0, max_value=0.99)
goals_st = st.lists(st.tuples(levels_st, weights_st), min_size=1, max_size=12)


@given(weights=st.lists(weights_st, min_size=1, max_size=12), rho=rho_st)
def test_fifty_when_every_goal_is_at_the_expected_level(weights, rho):
    assert t_score([0] * len(weights), weights, rho) == 50.0


@given(goals=goals_st, rho=rho_st, data=st.data())
def test_raising_any_one_goal_by_a_level_raises_t(goals, rho, data):
    levels = [level for level, _ in goals]
    weights = [weight for _, weight in goals]
    raisable = [i for i, level in enumerate(levels) if level < 2]
    if not raisable:
        levels[0] = 1
        raisable = [0]
    i = data.draw(st.sampled_from(raisable))
    raised = list(levels)
    raised[i] += 1
    assert t_score(raised, weights, rho) > t_score(levels, weights, rho)


@given(goals=goals_st, rho=rho_st, data=st.data())
def test_the_order_of_the_goals_does_not_matter(goals, rho, data):
    shuffled = data.draw(st.permutations(goals))
    assert t_score([x for x, _ in shuffled], [w for _, w in shuffled], rho) == t_score([x for x, _ in goals], [w for _, w in goals], rho)


@given(goals=goals_st, rho=rho_st, factor=st.integers(min_value=2, max_value=50))
def test_scaling_every_weight_by_one_factor_does_not_change_t(goals, rho, factor):
    levels = [x for x, _ in goals]
    weights = [w for _, w in goals]
    scaled = [w * factor for w in weights]
    assert t_score(levels, scaled, rho) == pytest.approx(t_score(levels, weights, rho), abs=1e-9)


@given(goals=goals_st, rho=rho_st)
def test_t_is_finite_and_on_the_side_of_fifty_that_the_weighted_levels_point_to(goals, rho):
    levels = [x for x, _ in goals]
    weights = [w for _, w in goals]
    t = t_score(levels, weights, rho)
    weighted = sum(x * w for x, w in goals)
    assert math.isfinite(t)
    assert (t > 50) == (weighted > 0)
    assert (t < 50) == (weighted < 0)


@given(baseline=levels_st, current=levels_st)
def test_goal_change_undoes_itself(baseline, current):
    assert goal_change(baseline, current) == -goal_change(current, baseline)
    assert baseline + goal_change(baseline, current) == current


# --- Refused input: a clear message that names the bad value ---


@pytest.mark.parametrize("bad", [3, -3, 1.5, 1.0, "1", None, True])
def test_a_level_outside_the_scale_is_refused_by_name(bad):
    with pytest.raises(ValueError, match=rf"level must be a whole number from -2 to \+2, got {bad!r}"):
        t_score([0, bad])


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", None, False])
def test_a_weight_that_is_not_a_positive_whole_number_is_refused_by_name(bad):
    with pytest.raises(ValueError, match=f"weight must be a positive whole number, got {bad!r}"):
        t_score([0, 1], [1, bad])


@pytest.mark.parametrize("bad", [-0.1, 1, 1.0, 1.5, math.nan, math.inf, "0.3", None])
def test_rho_outside_zero_to_one_is_refused_by_name(bad):
    with pytest.raises(ValueError, match=rf"rho must be at least 0 and below 1, got {bad!r}"):
        t_score([1], rho=bad)


def test_no_goals_is_refused():
    with pytest.raises(ValueError, match="at least one goal"):
        t_score([])


@pytest.mark.parametrize(("levels", "weights"), [([1, 0], [1]), ([1], [1, 2])])
def test_weights_of_another_length_are_refused(levels, weights):
    with pytest.raises(ValueError, match=rf"{len(levels)} levels but {len(weights)} weights"):
        t_score(levels, weights)


def test_goal_change_refuses_a_level_outside_the_scale():
    with pytest.raises(ValueError, match="got 5"):
        goal_change(0, 5)
    with pytest.raises(ValueError, match="got -3"):
        goal_change(-3, 0)


def test_series_refuses_a_rated_goal_without_a_weight():
    rating = Rating(when=date(2026, 1, 5), levels={"sleep": 1, "walks": 0})
    with pytest.raises(ValueError, match="no weight given for goal 'walks'"):
        t_score_series([rating], weights={"sleep": 2})


def test_series_refuses_a_rating_with_no_goals_and_a_bad_level():
    with pytest.raises(ValueError, match="at least one goal"):
        t_score_series([Rating(when=date(2026, 1, 5), levels={})])
    with pytest.raises(ValueError, match="got 3"):
        t_score_series([Rating(when=date(2026, 1, 5), levels={"sleep": 3})])
