"""Change: the Jacobson & Truax index, published fixed thresholds, clinical significance and IAPT recovery."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from rapport.measures.change import (
    CLINICALLY_SIGNIFICANT_IMPROVEMENT,
    MOVED_TO_RECOVERY,
    NO_RELIABLE_CHANGE,
    NOT_A_CASE,
    NOT_COUNTED,
    NOT_RECOVERED,
    RELIABLE_DETERIORATION,
    RELIABLE_IMPROVEMENT,
    RELIABLE_RECOVERY,
    Measured,
    clinical_significance,
    instrument_change,
    jacobson_truax_cutoffs,
    recovery,
    reliable_change,
    standard_difference,
    threshold_change,
)
from rapport.measures.instruments import load

PHQ9, GAD7, WHO5 = load("phq9"), load("gad7"), load("who5")

# --- Jacobson & Truax 1991 (MEASURES.md §1.8) ---


def test_rci_worked_example_sd_5_reliability_084():
    # S_diff = 5 * sqrt(2) * sqrt(0.16) = 2.8284; reliable change needs 1.96 * 2.8284 = 5.54 points (rci-01).
    assert standard_difference(sd=5, reliability=0.84) == pytest.approx(2.828427, abs=1e-6)
    improved = reliable_change(20, 14, sd=5, reliability=0.84)
    assert improved.index == pytest.approx(-6 / 2.828427, abs=1e-6)  # -2.12
    assert improved.threshold == pytest.approx(5.5437, abs=1e-4)
    assert improved.classification == RELIABLE_IMPROVEMENT
    assert improved.rule == "jacobson_truax"
    assert "Jacobson NS, Truax P" in improved.source
    assert reliable_change(20, 15, sd=5, reliability=0.84).classification == NO_RELIABLE_CHANGE  # -1.77
    assert reliable_change(14, 20, sd=5, reliability=0.84).classification == RELIABLE_DETERIORATION


def test_rci_direction_flips_when_higher_is_better():
    # WHO-5: a rise is improvement.
    assert reliable_change(40, 80, sd=15, reliability=0.8, higher_is_better=True).classification == RELIABLE_IMPROVEMENT
    assert reliable_change(80, 40, sd=15, reliability=0.8, higher_is_better=True).classification == RELIABLE_DETERIORATION


@pytest.mark.parametrize(("sd", "reliability"), [(0, 0.8), (-1, 0.8), (5, 1), (5, 1.2), (5, -0.1), (math.nan, 0.8), (5, math.inf)])
def test_rci_refuses_impossible_inputs(sd: float, reliability: float):
    with pytest.raises(ValueError, match="must be"):
        reliable_change(10, 5, sd=sd, reliability=reliability)


scores = st.floats(min_value=-100, max_value=100, allow_nan=False)
sds = st.floats(min_value=0.1, max_value=50, allow_nan=False)
reliabilities = st.floats(min_value=0, max_value=0.99, allow_nan=False)


@given(baseline=scores, current=scores, sd=sds, reliability=reliabilities, higher_is_better=st.booleans())
def test_rci_is_antisymmetric(baseline: float, current: float, sd: float, reliability: float, higher_is_better: bool):
    forward = reliable_change(baseline, current, sd=sd, reliability=reliability, higher_is_better=higher_is_better)
    backward = reliable_change(current, baseline, sd=sd, reliability=reliability, higher_is_better=higher_is_better)
    assert forward.index is not None
    assert backward.index is not None
    assert forward.index == pytest.approx(-backward.index)
    swapped = {
        RELIABLE_IMPROVEMENT: RELIABLE_DETERIORATION,
        RELIABLE_DETERIORATION: RELIABLE_IMPROVEMENT,
        NO_RELIABLE_CHANGE: NO_RELIABLE_CHANGE,
    }
    assume(abs(abs(forward.index) - 1.96) > 1e-9)  # floating-point noise exactly at the boundary
    assert backward.classification == swapped[forward.classification]


@given(baseline=scores, current=scores, sd=sds, reliability=reliabilities, scale=st.floats(min_value=0.01, max_value=100), shift=scores)
def test_rci_does_not_depend_on_the_unit_or_origin_of_the_scale(
    baseline: float, current: float, sd: float, reliability: float, scale: float, shift: float
):
    plain = reliable_change(baseline, current, sd=sd, reliability=reliability).index
    rescaled = reliable_change(baseline * scale + shift, current * scale + shift, sd=sd * scale, reliability=reliability).index
    assert plain is not None
    assert rescaled is not None
    assert rescaled == pytest.approx(plain, rel=1e-6, abs=1e-6)


@given(baseline=scores, current=scores, sd=sds, reliability=reliabilities)
def test_direction_only_swaps_improvement_and_deterioration(baseline: float, current: float, sd: float, reliability: float):
    worse_up = reliable_change(baseline, current, sd=sd, reliability=reliability, higher_is_better=False)
    better_up = reliable_change(baseline, current, sd=sd, reliability=reliability, higher_is_better=True)
    assert worse_up.index == better_up.index
    assert (worse_up.classification == NO_RELIABLE_CHANGE) == (better_up.classification == NO_RELIABLE_CHANGE)
    if worse_up.classification != NO_RELIABLE_CHANGE:
        assert worse_up.classification != better_up.classification


# --- fixed published thresholds (MEASURES.md §1.7, §2.3: IAPT PHQ-9 6, GAD-7 4) ---


def test_phq9_uses_the_published_six_point_threshold_and_says_so():
    change = instrument_change(PHQ9, 16, 10)
    assert change.rule == "fixed_threshold"
    assert change.index is None
    assert change.threshold == 6
    assert change.classification == RELIABLE_IMPROVEMENT  # a fall of exactly 6
    assert "NHS Talking Therapies" in change.source
    assert instrument_change(PHQ9, 16, 11).classification == NO_RELIABLE_CHANGE  # a fall of 5
    assert instrument_change(PHQ9, 10, 16).classification == RELIABLE_DETERIORATION


def test_gad7_uses_four_points():
    assert instrument_change(GAD7, 12, 8).classification == RELIABLE_IMPROVEMENT
    assert instrument_change(GAD7, 12, 9).classification == NO_RELIABLE_CHANGE
    assert instrument_change(GAD7, 5, 9).classification == RELIABLE_DETERIORATION


def test_an_instrument_without_a_fixed_threshold_needs_sd_and_reliability():
    with pytest.raises(ValueError, match="who5 publishes no fixed reliable-change threshold"):
        instrument_change(WHO5, 40, 60)
    change = instrument_change(WHO5, 40, 80, sd=15, reliability=0.8, sd_source="practice intake SD, 2026")
    assert change.rule == "jacobson_truax"
    assert change.classification == RELIABLE_IMPROVEMENT
    assert "practice intake SD, 2026" in change.source


def test_threshold_change_refuses_a_non_positive_threshold():
    with pytest.raises(ValueError, match="points must be a positive number"):
        threshold_change(10, 5, points=0, source="x")


# --- clinical significance (MEASURES.md §4.2) ---


def test_jacobson_truax_cutoffs_worked_example():
    # M_clin 32, SD 7, M_fun 10, SD 7 -> a 18, b 24, c 21 (clinicalsignificance vignette).
    cutoffs = jacobson_truax_cutoffs(clinical_mean=32, clinical_sd=7, functional_mean=10, functional_sd=7)
    assert (cutoffs.a, cutoffs.b, cutoffs.c) == (18, 24, 21)
    flipped = jacobson_truax_cutoffs(clinical_mean=30, clinical_sd=10, functional_mean=70, functional_sd=10, higher_is_better=True)
    assert (flipped.a, flipped.b, flipped.c) == (50, 50, 50)


def test_unequal_sds_weight_the_midpoint_towards_the_tighter_group():
    # c = (SD_fun * M_clin + SD_clin * M_fun) / (SD_fun + SD_clin) = (5*30 + 10*10) / 15 = 16.67
    cutoffs = jacobson_truax_cutoffs(clinical_mean=30, clinical_sd=10, functional_mean=10, functional_sd=5)
    assert cutoffs.c == pytest.approx(250 / 15)
    assert (cutoffs.a, cutoffs.b) == (10, 20)


def test_clinically_significant_needs_both_crossing_the_cutoff_and_reliable_change():
    crossed = clinical_significance(reliable_change(20, 8, sd=5, reliability=0.84), cutoff=10, cutoff_source="IAPT caseness")
    assert crossed.classification == CLINICALLY_SIGNIFICANT_IMPROVEMENT
    assert (crossed.started_in_clinical_range, crossed.ended_in_clinical_range) == (True, False)
    stayed = clinical_significance(reliable_change(20, 12, sd=5, reliability=0.84), cutoff=10, cutoff_source="IAPT caseness")
    assert stayed.classification == RELIABLE_IMPROVEMENT
    small = clinical_significance(reliable_change(11, 9, sd=5, reliability=0.84), cutoff=10, cutoff_source="IAPT caseness")
    assert small.classification == NO_RELIABLE_CHANGE  # crossed, but not reliably
    better = clinical_significance(
        reliable_change(36, 72, sd=15, reliability=0.8, higher_is_better=True), cutoff=48, cutoff_source="WHO-5 poor well-being"
    )
    assert better.classification == CLINICALLY_SIGNIFICANT_IMPROVEMENT


# --- IAPT recovery (MEASURES.md §4.3) ---


def _recovery(phq9: tuple[int, int], gad7: tuple[int, int], sessions: int = 6) -> str:
    return recovery([Measured(PHQ9, *phq9), Measured(GAD7, *gad7)], treatment_sessions=sessions).classification


def test_iapt_recovery_classifications():
    assert _recovery((15, 8), (9, 5)) == RELIABLE_RECOVERY  # case at start; both below caseness; PHQ-9 fell 7
    assert _recovery((12, 9), (7, 6)) == MOVED_TO_RECOVERY  # below caseness at the end, no fall of 6 or 4
    assert _recovery((15, 12), (10, 9)) == NOT_RECOVERED  # still a case on the PHQ-9
    assert _recovery((14, 4), (9, 8)) == NOT_RECOVERED  # GAD-7 8 is still caseness
    assert _recovery((9, 5), (7, 3)) == NOT_A_CASE  # neither at caseness at the start
    assert _recovery((15, 8), (9, 5), sessions=1) == NOT_COUNTED  # fewer than two treatment sessions


def test_recovery_reports_its_changes_and_source():
    result = recovery([Measured(PHQ9, 15, 8), Measured(GAD7, 9, 5)], treatment_sessions=3)
    assert [change.classification for change in result.changes] == [RELIABLE_IMPROVEMENT, RELIABLE_IMPROVEMENT]
    assert "MindStep" in result.source


def test_recovery_needs_instruments_with_caseness_and_a_threshold():
    with pytest.raises(ValueError, match="who5 has no caseness cut-off and fixed reliable-change threshold"):
        recovery([Measured(WHO5, 40, 80)], treatment_sessions=4)
