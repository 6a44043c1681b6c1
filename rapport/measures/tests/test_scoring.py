"""Scoring: examples worked by hand for each shipped instrument, and properties checked by hypothesis.

Sources are MEASURES.md's sections, named beside each group of examples.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.measures.instruments import Instrument, load, load_all, parse
from rapport.measures.scoring import AnswerError, Score, score

PHQ9 = load("phq9")
GAD7 = load("gad7")
WHO5 = load("who5")


def _phq9(*values: int | None, difficulty: int | None = None) -> Score:
    answers: dict[str, Any] = {f"phq9_{n}": value for n, value in enumerate(values, start=1)}
    answers["phq9_difficulty"] = difficulty
    return score(PHQ9, answers)


def _gad7(*values: int | None) -> Score:
    return score(GAD7, {f"gad7_{n}": value for n, value in enumerate(values, start=1)})


def _who5(*values: int | None) -> Score:
    return score(WHO5, {f"who5_{n}": value for n, value in enumerate(values, start=1)})


# --- PHQ-9 (MEASURES.md §1.3: sum of items 1-9, 0-27; bands at 5/10/15/20, lower bounds inclusive) ---


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ((0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "none_minimal"),
        ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "none_minimal"),
        ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "mild"),
        ((2, 2, 2, 1, 1, 1, 0, 0, 0), 9, "mild"),
        ((2, 2, 2, 1, 1, 1, 1, 0, 0), 10, "moderate"),
        ((2, 2, 2, 2, 2, 2, 1, 1, 0), 14, "moderate"),
        ((2, 2, 2, 2, 2, 2, 2, 1, 0), 15, "moderately_severe"),
        ((3, 3, 3, 2, 2, 2, 2, 2, 0), 19, "moderately_severe"),
        ((3, 3, 3, 3, 2, 2, 2, 2, 0), 20, "severe"),
        ((3, 3, 3, 3, 3, 3, 3, 3, 3), 27, "severe"),
    ],
)
def test_phq9_totals_and_bands_at_every_boundary(values: tuple[int, ...], total: int, band: str):
    result = _phq9(*values)
    assert result.scorable
    assert result.total == total
    assert result.raw_total == total
    assert result.band == band
    assert result.prorated is False


def test_phq9_caseness_starts_at_ten():
    # NHS Talking Therapies caseness PHQ-9 >= 10 (MEASURES.md §1.7).
    assert _phq9(2, 2, 2, 1, 1, 1, 0, 0, 0).cutoffs == ()
    assert _phq9(2, 2, 2, 1, 1, 1, 1, 0, 0).cutoffs == ("iapt_caseness",)


def test_phq9_difficulty_item_is_stored_but_never_counted():
    # §1.2: the difficulty item sits outside the total.
    assert _phq9(0, 0, 0, 0, 0, 0, 0, 0, 0, difficulty=3).total == 0
    assert _phq9(1, 1, 1, 1, 1, 0, 0, 0, 0, difficulty=None).total == 5


def test_phq9_item_9_fires_on_any_answer_above_not_at_all_whatever_the_total():
    # §1.4: any answer other than "Not at all" reaches a clinician, regardless of the total.
    low = _phq9(0, 0, 0, 0, 0, 0, 0, 0, 1)
    assert low.total == 1
    assert low.band == "none_minimal"
    assert low.risk == ("phq9_9",)
    assert low.needs_attention
    assert _phq9(3, 3, 3, 3, 3, 3, 3, 3, 0).risk == ()


def test_phq9_prorates_one_missing_item_from_the_mean_of_items_1_to_8():
    # §1.5 [design]: items 1-7 answered 2,2,1,1,0,3,2 (sum 11, mean 11/7), item 8 missing, item 9 = 0:
    # 11 + 11/7 + 0 = 12.57, rounded half up to 13; band moderate; marked prorated.
    result = _phq9(2, 2, 1, 1, 0, 3, 2, None, 0)
    assert result.scorable
    assert result.total == 13
    assert result.prorated
    assert result.band == "moderate"
    assert result.missing == ("phq9_8",)


def test_phq9_prorates_two_missing_items_and_still_reads_item_9():
    # Items 1-6 = 3,3,2,2,1,1 (sum 12, mean 2), items 7 and 8 missing, item 9 = 1: 12 + 2*2 + 1 = 17.
    result = _phq9(3, 3, 2, 2, 1, 1, None, None, 1)
    assert result.total == 17
    assert result.band == "moderately_severe"
    assert result.prorated
    assert result.risk == ("phq9_9",)


def test_phq9_with_three_missing_items_is_not_scorable_but_keeps_its_risk_answer():
    result = _phq9(3, 3, 2, 2, 1, None, None, None, 2)
    assert not result.scorable
    assert result.total is None
    assert result.band is None
    assert result.risk == ("phq9_9",)
    assert result.reason == "3 items unanswered; at most 2 can be estimated"


def test_phq9_item_9_is_never_imputed_and_unanswered_it_is_unknown_risk():
    result = _phq9(1, 1, 1, 1, 1, 1, 1, 1, None)
    assert not result.scorable
    assert result.risk == ()
    assert result.risk_unanswered == ("phq9_9",)
    assert result.needs_attention
    assert result.reason == "phq9_9 unanswered; it is never estimated from the other answers"


def test_phq2_is_items_1_and_2_with_a_cut_point_of_3():
    # MEASURES.md §3.1: PHQ-2 0-6, >= 3 optimal cut point (Kroenke 2003).
    phq2 = load("phq2")
    assert score(phq2, {"phq2_1": 1, "phq2_2": 1}).cutoffs == ()
    result = score(phq2, {"phq2_1": 2, "phq2_2": 1})
    assert result.total == 3
    assert result.cutoffs == ("screen_positive",)
    assert result.band is None
    assert score(phq2, {"phq2_1": 2}).scorable is False


# --- GAD-7 and GAD-2 (MEASURES.md §2.3-2.4: 0-21; 5/10/15; screen >= 10; IAPT caseness >= 8) ---


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ((0, 0, 0, 0, 0, 0, 0), 0, "minimal"),
        ((1, 1, 1, 1, 0, 0, 0), 4, "minimal"),
        ((1, 1, 1, 1, 1, 0, 0), 5, "mild"),
        ((2, 2, 2, 1, 1, 1, 0), 9, "mild"),
        ((2, 2, 2, 1, 1, 1, 1), 10, "moderate"),
        ((2, 2, 2, 2, 2, 2, 2), 14, "moderate"),
        ((3, 2, 2, 2, 2, 2, 2), 15, "severe"),
        ((3, 3, 3, 3, 3, 3, 3), 21, "severe"),
    ],
)
def test_gad7_totals_and_bands_at_every_boundary(values: tuple[int, ...], total: int, band: str):
    result = _gad7(*values)
    assert result.total == total
    assert result.band == band


def test_gad7_cutoffs_caseness_at_8_and_further_evaluation_at_10():
    assert _gad7(1, 1, 1, 1, 1, 1, 1).cutoffs == ()  # 7
    assert _gad7(2, 1, 1, 1, 1, 1, 1).cutoffs == ("iapt_caseness",)  # 8
    assert _gad7(2, 2, 2, 1, 1, 1, 1).cutoffs == ("further_evaluation", "iapt_caseness")  # 10


def test_gad7_needs_every_item_and_has_no_risk_item():
    result = _gad7(3, 3, 3, 3, 3, 3, None)
    assert not result.scorable
    assert result.reason == "1 of 7 scored items unanswered; every one is needed"
    assert result.risk == ()
    assert result.risk_unanswered == ()


def test_gad2_cut_point_of_3():
    gad2 = load("gad2")
    assert score(gad2, {"gad2_1": 3, "gad2_2": 0}).cutoffs == ("screen_positive",)
    assert score(gad2, {"gad2_1": 1, "gad2_2": 1}).cutoffs == ()


# --- WHO-5 (MEASURES.md §3.2: raw 0-25 times 4; raw < 13 poor well-being; any item 0 or 1: assess) ---


def test_who5_multiplies_the_raw_sum_by_four():
    result = _who5(5, 4, 3, 3, 2)
    assert result.raw_total == 17
    assert result.total == 68
    assert result.cutoffs == ()
    assert result.flags == ()
    assert _who5(5, 5, 5, 5, 5).total == 100


def test_who5_raw_12_is_poor_wellbeing_and_raw_13_is_not():
    twelve = _who5(3, 3, 2, 2, 2)
    assert (twelve.raw_total, twelve.total, twelve.cutoffs) == (12, 48, ("poor_wellbeing",))
    thirteen = _who5(3, 3, 3, 2, 2)
    assert (thirteen.raw_total, thirteen.total, thirteen.cutoffs) == (13, 52, ())


def test_who5_flags_any_item_answered_0_or_1_whatever_the_total():
    result = _who5(5, 5, 5, 5, 1)
    assert result.total == 84
    assert result.flags == ("low_item",)
    assert _who5(5, 5, 5, 5, 0).flags == ("low_item",)
    assert _who5(2, 2, 2, 2, 2).flags == ()


def test_who5_needs_every_item():
    assert _who5(5, 5, 5, 5, None).scorable is False


# --- Rapport's own check-ins (not validated: a sum, per-item subscales, no bands) ---


def test_alliance_check_in_sums_three_ratings_and_keeps_each():
    alliance = load("alliance")
    result = score(alliance, {"goals": 8, "tasks": 7, "bond": 9, "note": "We ran out of time at the end."})
    assert result.total == 24
    assert dict(result.subscales) == {"goals": 8, "tasks": 7, "bond": 9}
    assert result.band is None
    partial = score(alliance, {"goals": 8, "tasks": 7, "note": ""})
    assert partial.total is None
    assert dict(partial.subscales) == {"goals": 8, "tasks": 7, "bond": None}


def test_presession_check_in_is_the_weekly_rating():
    presession = load("presession")
    assert score(presession, {"week": 6, "agenda": "My sister's visit."}).total == 6
    assert score(presession, {"agenda": "My sister's visit."}).scorable is False


# --- reverse-scored items, subscales with multipliers and the rounding rule, on a fictional scale ---

FICTIONAL = """
key: fictional
name: A fictional test scale
version: "1"
authorship: published
validated: true
higher_is_better: false
citations: [{text: "Fictional, for tests only.", evidence: design}]
licence: {statement: "Fictional.", attribution: null, source: "This test.", evidence: design}
option_sets:
  four: [{value: 0, label: Never}, {value: 1, label: Sometimes}, {value: 2, label: Often}, {value: 3, label: Always}]
items:
  - {id: a, number: "1", options: four, text: "Fictional item A"}
  - {id: b, number: "2", options: four, text: "Fictional item B", reverse: true}
  - {id: c, number: "3", options: four, text: "Fictional item C"}
scoring:
  method: sum
  multiplier: 1
  missing:
    rule: prorate
    max_missing: 1
    items: [a, b, c]
    rounding: half_up
    citation: {text: "Fictional.", evidence: design}
  subscales:
    - key: first_two
      name: First two
      items: [a, b]
      multiplier: 2
      bands:
        citation: {text: "Fictional.", evidence: design}
        ranges: [{key: low, label: Low, min: 0, max: 5}, {key: high, label: High, min: 6, max: 12}]
bands:
  citation: {text: "Fictional.", evidence: design}
  ranges: [{key: low, label: Low, min: 0, max: 4}, {key: high, label: High, min: 5, max: 9}]
"""
SCALE = parse(yaml.safe_load(FICTIONAL), file="fictional.yaml")


def test_a_reverse_scored_item_counts_from_the_other_end():
    # b = 0 counts 3, b = 3 counts 0.
    assert score(SCALE, {"a": 1, "b": 0, "c": 1}).total == 5
    assert score(SCALE, {"a": 1, "b": 3, "c": 1}).total == 2


def test_a_subscale_is_multiplied_and_banded_on_its_own():
    # a = 2, b = 1 (counts 2): (2 + 2) * 2 = 8, band high.
    result = score(SCALE, {"a": 2, "b": 1, "c": 0})
    assert result.subscales == {"first_two": 8}
    assert result.subscale_bands == {"first_two": "high"}


def test_prorating_rounds_half_up():
    # a = 1, b = 3 (counts 0), c missing: 1 + 0 + mean 0.5 = 1.5, rounded half up to 2.
    result = score(SCALE, {"a": 1, "b": 3})
    assert result.total == 2
    assert result.prorated
    assert result.subscales == {"first_two": 2}
    # a = 3, b = 3 (counts 0), c missing: 3 + 1.5 = 4.5, half up to 5 (half to even would give 4).
    assert score(SCALE, {"a": 3, "b": 3}).total == 5


# --- bad answers raise, naming the item and the allowed values, and return nothing ---


def test_an_out_of_range_answer_names_the_item_and_the_allowed_values():
    with pytest.raises(AnswerError) as caught:
        _phq9(0, 0, 4, 0, 0, 0, 0, 0, 0)
    assert str(caught.value) == (
        "phq9: phq9_3: 4 is not an allowed value; allowed: 0 (Not at all), 1 (Several days), 2 (More than half the days), 3 (Nearly every day)"
    )
    assert caught.value.item == "phq9_3"


def test_an_unknown_item_is_refused():
    with pytest.raises(AnswerError, match=r"^gad7: gad7_8: unknown item; this instrument's items are gad7_1, "):
        score(GAD7, {"gad7_1": 0, "gad7_8": 1})


@pytest.mark.parametrize("value", ["2", 1.0, True, [1]])
def test_a_value_that_is_not_an_integer_is_refused(value: object):
    with pytest.raises(AnswerError, match="phq9_1: expected an integer"):
        score(PHQ9, {"phq9_1": value})


def test_free_text_must_be_text():
    with pytest.raises(AnswerError, match="alliance: note: expected free text, got int"):
        score(load("alliance"), {"goals": 1, "tasks": 1, "bond": 1, "note": 5})


# --- properties ---


def _answers(instrument: Instrument, *, complete: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for item in instrument.items:
        if item.kind == "text":
            parts[item.id] = st.one_of(st.none(), st.text(max_size=20))
        elif complete and item.scored:
            parts[item.id] = st.sampled_from(item.values)
        else:
            parts[item.id] = st.one_of(st.none(), st.sampled_from(item.values))
    return st.fixed_dictionaries(parts)


INSTRUMENTS = [*load_all().values(), SCALE]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), instrument=st.sampled_from(INSTRUMENTS))
def test_a_score_is_always_in_range_and_banded(data: st.DataObject, instrument: Instrument):
    result = score(instrument, data.draw(_answers(instrument)))
    low, high = instrument.total_range
    if result.scorable:
        assert result.total is not None
        assert low <= result.total <= high
        assert (result.band is not None) == (instrument.bands is not None)
    else:
        assert result.total is None
        assert result.band is None
        assert result.cutoffs == ()


@settings(max_examples=300, deadline=None)
@given(data=st.data(), instrument=st.sampled_from(list(load_all().values())))
def test_raising_any_answer_never_lowers_the_total(data: st.DataObject, instrument: Instrument):
    # None of the shipped instruments has a reverse-scored item.
    assert not any(item.reverse for item in instrument.items)
    answers = data.draw(_answers(instrument, complete=True))
    item = data.draw(st.sampled_from(instrument.scored_items))
    higher = data.draw(st.sampled_from([value for value in item.values if value >= answers[item.id]]))
    before = score(instrument, answers).total
    after = score(instrument, {**answers, item.id: higher}).total
    assert before is not None
    assert after is not None
    assert after >= before


@settings(max_examples=200, deadline=None)
@given(data=st.data(), instrument=st.sampled_from(INSTRUMENTS))
def test_scoring_does_not_depend_on_the_order_of_the_answers(data: st.DataObject, instrument: Instrument):
    answers = data.draw(_answers(instrument))
    shuffled = dict(data.draw(st.permutations(list(answers.items()))))
    assert score(instrument, shuffled) == score(instrument, answers)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_phq9_risk_answer_is_never_lost(data: st.DataObject):
    answers = data.draw(_answers(PHQ9))
    answers["phq9_9"] = data.draw(st.sampled_from([1, 2, 3]))
    result = score(PHQ9, answers)
    assert result.risk == ("phq9_9",)
    assert result.needs_attention
