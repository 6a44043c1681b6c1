"""The instrument files and their schema: the shipped files pass, a broken file names file, field and why."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.checks import run_checks
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.measures import instruments
from rapport.measures.apps import check_instruments
from rapport.measures.instruments import BUILTIN_DIR, InstrumentError, UnknownInstrument, load, load_all, read_file

SHIPPED = ("alliance", "gad2", "gad7", "phq2", "phq9", "presession", "who5")


def _raw(key: str) -> dict[str, Any]:
    return yaml.safe_load((BUILTIN_DIR / f"{key}.yaml").read_text(encoding="utf-8"))


def _write(directory: Path, raw: Any, name: str = "phq9") -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(InstrumentError) as caught:
        read_file(path)
    return [str(problem) for problem in caught.value.problems]


# --- the shipped files ------------------------------------------------------------------------------


def test_every_shipped_file_passes_and_nothing_else_is_shipped():
    assert sorted(load_all(dirs=[BUILTIN_DIR])) == sorted(SHIPPED)
    assert instruments.check_directories([BUILTIN_DIR]) == []


def test_load_gives_the_contract_items_in_published_order():
    phq9 = load("phq9")
    assert [item.id for item in phq9.items] == [f"phq9_{n}" for n in range(1, 10)] + ["phq9_difficulty"]
    assert [item.scored for item in phq9.items] == [True] * 9 + [False]
    assert phq9.items[0].text == "Little interest or pleasure in doing things"
    assert phq9.items[8].loinc == "44260-8"
    assert [(o.value, o.label) for o in phq9.items[0].options] == [
        (0, "Not at all"),
        (1, "Several days"),
        (2, "More than half the days"),
        (3, "Nearly every day"),
    ]
    assert phq9.total_range == (0, 27)
    assert load("gad7").total_range == (0, 21)
    assert load("who5").total_range == (0, 100)  # raw 0-25 times 4


def test_load_is_cached_and_unknown_keys_are_named():
    assert load("gad7") is load("gad7")
    with pytest.raises(UnknownInstrument, match="no instrument 'k10'"):
        load("k10")


def test_gad7_lowest_option_is_not_at_all_not_the_misprint():
    # Zorowitz et al. 2021 (Lancet Psychiatry 8:180) via CamCOPS gad7.rst: "Not at all sure" is a misprint.
    assert load("gad7").items[0].options[0].label == "Not at all"


def test_who5_ships_without_wording_as_data_collection_only():
    who5 = load("who5")
    assert who5.data_collection_only
    assert all(item.text is None and item.topic for item in who5.items)
    assert who5.higher_is_better
    assert load("phq9").data_collection_only is False


def test_project_check_ins_are_marked_unvalidated_with_no_bands_or_cutoffs():
    for key in ("alliance", "presession"):
        checkin = load(key)
        assert checkin.authorship == "project"
        assert checkin.validated is False
        assert checkin.bands is None
        assert checkin.cutoffs == ()
        assert checkin.reliable_change is None
        assert "Affero" in checkin.licence.statement
        free_text = [item for item in checkin.items if item.kind == "text"]
        assert len(free_text) == 1
        assert not free_text[0].scored
    assert [item.id for item in load("alliance").items] == ["goals", "tasks", "bond", "note"]


def test_every_published_instrument_carries_licence_citation_and_evidence():
    for instrument in load_all().values():
        assert instrument.licence.statement
        assert instrument.licence.source
        assert instrument.citations
        assert instrument.scoring.missing.citation.evidence in instruments.EVIDENCE
        if instrument.bands is not None:
            assert instrument.bands.citation.text


# --- schema errors name the file, the field and why -------------------------------------------------


def test_a_wrong_type_names_file_field_and_why(tmp_path: Path):
    raw = _raw("phq9")
    raw["items"][8]["options"] = copy.deepcopy(raw["option_sets"]["frequency"])
    raw["items"][8]["options"][2]["value"] = "two"
    assert _problems(_write(tmp_path, raw)) == ["phq9.yaml: items[8].options[2].value: expected an integer, got 'two'"]


def test_an_unknown_field_is_an_error(tmp_path: Path):
    raw = _raw("gad7")
    raw["items"][3]["reversed"] = True  # the field is called "reverse"
    problems = _problems(_write(tmp_path, raw, "gad7"))
    assert len(problems) == 1
    assert problems[0].startswith("gad7.yaml: items[3].reversed: unknown field")


def test_a_repeated_yaml_key_is_an_error(tmp_path: Path):
    text = (BUILTIN_DIR / "phq2.yaml").read_text(encoding="utf-8").replace('version: "2003"', 'version: "2003"\nversion: "2004"')
    path = tmp_path / "phq2.yaml"
    path.write_text(text, encoding="utf-8")
    (problem,) = _problems(path)
    assert problem.startswith("phq2.yaml: line ")
    assert "repeated key 'version'" in problem


def test_the_key_must_match_the_file_name(tmp_path: Path):
    assert _problems(_write(tmp_path, _raw("phq9"), "phq9_copy")) == [
        "phq9_copy.yaml: key: must match the file name 'phq9_copy', got 'phq9'"
    ]


def test_bands_with_a_gap_are_refused(tmp_path: Path):
    raw = _raw("phq9")
    raw["bands"]["ranges"][2]["min"] = 11
    assert _problems(_write(tmp_path, raw)) == ["phq9.yaml: bands.ranges[2].min: leaves a gap after mild (ends at 9): expected 10, got 11"]


def test_overlapping_bands_are_refused(tmp_path: Path):
    # The qscorer typo MEASURES.md warns about: "10 to 15 = moderate; 15 to 19 = moderately severe".
    raw = _raw("phq9")
    raw["bands"]["ranges"][2]["max"] = 15
    problems = _problems(_write(tmp_path, raw))
    assert problems == ["phq9.yaml: bands.ranges[3].min: overlaps the band before it (moderate: 10-15), got 15"]


def test_bands_must_reach_both_ends_of_the_range(tmp_path: Path):
    raw = _raw("gad7")
    raw["bands"]["ranges"][0]["min"] = 1
    raw["bands"]["ranges"][-1]["max"] = 20
    assert _problems(_write(tmp_path, raw, "gad7")) == [
        "gad7.yaml: bands.ranges[0].min: the first band must start at the lowest possible score 0, got 1",
        "gad7.yaml: bands.ranges[3].max: the last band must end at the highest possible score 21, got 20",
    ]


def test_a_risk_item_must_exist_and_its_trigger_must_be_an_option(tmp_path: Path):
    raw = _raw("phq9")
    raw["risk"][0]["at_least"] = 4
    assert _problems(_write(tmp_path, raw)) == ["phq9.yaml: risk[0].at_least: expected one of the item's values [0, 1, 2, 3], got 4"]
    raw["risk"][0]["item"] = "phq9_10"
    assert _problems(_write(tmp_path, raw)) == ["phq9.yaml: risk[0].item: unknown item id 'phq9_10'"]


def test_a_risk_item_can_never_be_prorated_or_fire_on_every_answer(tmp_path: Path):
    raw = _raw("phq9")
    raw["scoring"]["missing"]["items"].append("phq9_9")
    assert _problems(_write(tmp_path, raw)) == [
        "phq9.yaml: scoring.missing.items: 'phq9_9' is a risk item and must never be estimated from other answers"
    ]
    raw = _raw("phq9")
    raw["risk"][0]["at_least"] = 0
    assert _problems(_write(tmp_path, raw)) == [
        "phq9.yaml: risk[0].at_least: 0 is the item's lowest answer, so the risk item would fire on every answer"
    ]


def test_an_unvalidated_check_in_cannot_carry_cutoffs(tmp_path: Path):
    raw = _raw("alliance")
    raw["cutoffs"] = [{"key": "low", "label": "Low", "at_most": 10, "citation": {"text": "made up", "evidence": "design"}}]
    assert _problems(_write(tmp_path, raw, "alliance")) == [
        "alliance.yaml: cutoffs: an instrument that is not validated has no bands, cut-offs or published thresholds"
    ]


def test_several_problems_are_all_reported(tmp_path: Path):
    raw = _raw("gad2")
    del raw["licence"]
    raw["items"][1]["options"] = "frequncy"
    raw["higher_is_better"] = "no"
    problems = _problems(_write(tmp_path, raw, "gad2"))
    assert "gad2.yaml: licence: required field is missing" in problems
    assert "gad2.yaml: items[1].options: unknown option set 'frequncy' (defined: frequency)" in problems
    assert "gad2.yaml: higher_is_better: expected true or false, got 'no'" in problems


def test_invalid_yaml_names_the_line(tmp_path: Path):
    path = tmp_path / "phq2.yaml"
    path.write_text("key: phq2\nitems: [unclosed\n", encoding="utf-8")
    (problem,) = _problems(path)
    assert problem.startswith("phq2.yaml: line 3, column 1: not valid YAML")


_TOP_REQUIRED = ("key", "name", "version", "authorship", "validated", "higher_is_better", "citations", "licence", "items", "scoring")


@settings(max_examples=30, deadline=None)
@given(instrument=st.sampled_from(SHIPPED), field=st.sampled_from(_TOP_REQUIRED))
def test_removing_any_required_field_names_that_field(tmp_path_factory: pytest.TempPathFactory, instrument: str, field: str):
    raw = _raw(instrument)
    del raw[field]
    problems = _problems(_write(tmp_path_factory.mktemp("broken"), raw, instrument))
    assert f"{instrument}.yaml: {field}: required field is missing" in problems


@settings(max_examples=30, deadline=None)
@given(instrument=st.sampled_from(SHIPPED), data=st.data())
def test_a_non_integer_option_value_anywhere_names_its_path(tmp_path_factory: pytest.TempPathFactory, instrument: str, data: st.DataObject):
    raw = _raw(instrument)
    set_name = data.draw(st.sampled_from(sorted(raw["option_sets"])))
    index = data.draw(st.integers(0, len(raw["option_sets"][set_name]) - 1))
    raw["option_sets"][set_name][index]["value"] = data.draw(st.sampled_from(["two", 1.5, True, None]))
    problems = _problems(_write(tmp_path_factory.mktemp("broken"), raw, instrument))
    assert any(p.startswith(f"{instrument}.yaml: option_sets.{set_name}[{index}].value: expected an integer") for p in problems)


# --- the practice's own directory and the system check ----------------------------------------------


def test_the_system_check_passes_on_the_shipped_files():
    assert check_instruments() == []


def test_the_system_check_reports_a_broken_file_in_the_practice_directory(tmp_path: Path):
    raw = _raw("phq9")
    raw["key"] = "practice_phq9"
    raw["bands"]["ranges"][4]["max"] = 30
    _write(tmp_path, raw, "practice_phq9")
    with override_settings(RAPPORT_EXTRA_INSTRUMENTS_DIR=str(tmp_path)):
        errors = check_instruments()
    assert [error.id for error in errors] == ["measures.E001"]
    assert str(errors[0]).startswith(
        "practice_phq9.yaml: (measures.E001) bands.ranges[4].max: the last band must end at the highest possible score 27, got 30"
    )


def test_the_check_is_registered_with_django(tmp_path: Path):
    raw = _raw("gad2")
    raw["key"] = "gad2_local"
    raw["items"][0]["options"] = "four"
    _write(tmp_path, raw, "gad2_local")
    with override_settings(RAPPORT_EXTRA_INSTRUMENTS_DIR=str(tmp_path)):
        messages = run_checks(tags=["measures"])
    assert [(m.id, m.obj, m.msg) for m in messages] == [
        ("measures.E001", "gad2_local.yaml", "items[0].options: unknown option set 'four' (defined: frequency)")
    ]


def test_a_practice_file_cannot_redefine_a_shipped_instrument(tmp_path: Path):
    _write(tmp_path, _raw("phq9"))
    with override_settings(RAPPORT_EXTRA_INSTRUMENTS_DIR=str(tmp_path)):
        errors = check_instruments()
    assert [(error.obj, error.msg) for error in errors] == [("phq9.yaml", f"key: 'phq9' is already defined by {BUILTIN_DIR / 'phq9.yaml'}")]


def test_a_valid_practice_instrument_loads_beside_the_shipped_ones(tmp_path: Path):
    raw = _raw("gad7")
    raw["key"] = "gad7_local"
    raw["name"] = "GAD-7 (the practice's translation)"
    _write(tmp_path, raw, "gad7_local")
    found = load_all(dirs=[BUILTIN_DIR, tmp_path])
    assert found["gad7_local"].name == "GAD-7 (the practice's translation)"
    assert "phq9" in found
    with pytest.raises(InstrumentError, match="already defined"):
        load_all(dirs=[BUILTIN_DIR, BUILTIN_DIR])
