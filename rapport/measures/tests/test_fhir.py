"""FHIR export: every shape validated with the fhir.resources models, codes checked against the instrument files.

fhir.resources checks structure, cardinality, data types and primitive formats, but not terminology
bindings, so the required codes (statuses, the survey category) are asserted here by hand.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import yaml
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.measures import fhir
from rapport.measures.instruments import Instrument, load, load_all, parse
from rapport.measures.scoring import AnswerError, score

BASE = "https://practice.example/fhir"
PATIENT = "Patient/0b6f1c1e-5f0a-4a55-9d0e-8d7b1e4f2a10"
WHEN = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)
PHQ9 = load("phq9")
INSTRUMENTS = load_all()


def _valid(resource: dict[str, Any]) -> dict[str, Any]:
    """Validate with the model for the resource's own type; return it as fhir.resources reads it back."""
    model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return model.model_dump(mode="json", exclude_none=True)


def _response(instrument: Instrument, answers: dict[str, Any], response_id: str = "resp-1") -> dict[str, Any]:
    return fhir.questionnaire_response(instrument, answers, base=BASE, subject_reference=PATIENT, authored=WHEN, response_id=response_id)


def _observation(instrument: Instrument, answers: dict[str, Any], **extra: Any) -> dict[str, Any] | None:
    return fhir.observation(
        instrument, score(instrument, answers), base=BASE, subject_reference=PATIENT, effective=WHEN, observation_id="obs-1", **extra
    )


def _phq9(*values: int | None) -> dict[str, int | None]:
    return {f"phq9_{n}": value for n, value in enumerate(values, start=1)}


# --- Questionnaire ---


@pytest.mark.parametrize("key", sorted(INSTRUMENTS))
def test_every_shipped_instrument_exports_a_valid_questionnaire(key: str):
    instrument = INSTRUMENTS[key]
    resource = fhir.questionnaire(instrument, base=BASE)
    _valid(resource)
    assert resource["status"] == "active"
    assert resource["id"] == f"{key}-{instrument.version}"
    assert resource["url"] == f"{BASE}/Questionnaire/{key}"
    assert resource["version"] == instrument.version
    assert resource["title"] == instrument.name
    assert resource["copyright"] == instrument.licence.statement


@pytest.mark.parametrize("key", sorted(INSTRUMENTS))
def test_link_ids_are_the_item_ids_in_order(key: str):
    instrument = INSTRUMENTS[key]
    questions = [entry for entry in fhir.questionnaire(instrument, base=BASE)["item"] if entry["type"] != "display"]
    assert [entry["linkId"] for entry in questions] == [item.id for item in instrument.items]
    assert [entry["type"] for entry in questions] == [item.kind for item in instrument.items]


@pytest.mark.parametrize("key", sorted(INSTRUMENTS))
def test_ordinal_values_are_the_option_values_on_scored_items_only(key: str):
    instrument = INSTRUMENTS[key]
    entries = {entry["linkId"]: entry for entry in fhir.questionnaire(instrument, base=BASE)["item"]}
    for item in instrument.items:
        if item.kind != "choice":
            assert "answerOption" not in entries[item.id]
            continue
        options = entries[item.id]["answerOption"]
        assert [option["valueCoding"]["display"] for option in options] == [option.label for option in item.options]
        if item.scored:
            ordinals = [option["extension"] for option in options]
            assert ordinals == [[{"url": fhir.ORDINAL_VALUE, "valueDecimal": option.value}] for option in item.options]
        else:
            assert all("extension" not in option for option in options)


def test_the_phq9_carries_loinc_item_and_answer_codes():
    entries = {entry["linkId"]: entry for entry in fhir.questionnaire(PHQ9, base=BASE)["item"]}
    assert entries["phq9_9"]["code"] == [{"system": fhir.LOINC, "code": "44260-8"}]
    assert entries["phq9_1"]["answerOption"][3]["valueCoding"] == {"system": fhir.LOINC, "code": "LA6571-9", "display": "Nearly every day"}
    assert entries["_stem"] == {"linkId": "_stem", "text": PHQ9.stem, "type": "display"}


def test_the_gad7_questionnaire_carries_its_loinc_panel_code():
    assert fhir.questionnaire(INSTRUMENTS["gad7"], base=BASE)["code"] == [{"system": fhir.LOINC, "code": "69737-5"}]
    assert "code" not in fhir.questionnaire(INSTRUMENTS["alliance"], base=BASE)


def test_data_collection_only_items_have_no_text_rather_than_invented_wording():
    who5 = INSTRUMENTS["who5"]
    resource = fhir.questionnaire(who5, base=BASE)
    _valid(resource)
    assert all("text" not in entry for entry in resource["item"])
    for item in who5.items:
        assert item.topic is not None
        assert item.topic not in str(resource)


def test_options_without_loinc_codes_use_one_code_system_per_item():
    who5 = INSTRUMENTS["who5"]
    entry = fhir.questionnaire(who5, base=BASE)["item"][0]
    assert entry["answerOption"][0]["valueCoding"] == {
        "system": f"{BASE}/CodeSystem/who5/who5-1",
        "code": "5",
        "display": "All of the time",
    }


REVERSED = """
key: reversed
name: A fictional scale with a reversed item
version: "1"
authorship: project
validated: false
higher_is_better: true
citations: [{text: "Fictional, for tests only.", evidence: design}]
licence: {statement: "Fictional.", attribution: null, source: "This test.", evidence: design}
option_sets:
  three: [{value: 0, label: Never}, {value: 1, label: Sometimes}, {value: 2, label: Often}]
items:
  - {id: plain, number: "1", options: three, text: "Fictional item"}
  - {id: flipped, number: "2", options: three, text: "Fictional reversed item", reverse: true}
scoring:
  method: sum
  multiplier: 1
  missing: {rule: all_required, citation: {text: "Fictional.", evidence: design}}
"""


def test_a_reversed_item_weighs_its_options_from_the_other_end():
    instrument = parse(yaml.safe_load(REVERSED), file="reversed.yaml")
    entries = {entry["linkId"]: entry for entry in fhir.questionnaire(instrument, base=BASE)["item"]}
    assert [option["extension"][0]["valueDecimal"] for option in entries["flipped"]["answerOption"]] == [2, 1, 0]
    assert [option["extension"][0]["valueDecimal"] for option in entries["plain"]["answerOption"]] == [0, 1, 2]


@pytest.mark.parametrize("base", ["practice.example/fhir", "ftp://practice.example/fhir", ""])
def test_a_base_that_is_not_an_http_address_is_refused(base: str):
    with pytest.raises(ValueError, match="base must be the installation's http"):
        fhir.questionnaire(PHQ9, base=base)


# --- QuestionnaireResponse ---


def test_a_complete_phq9_response_is_completed_and_valid():
    answers = {**_phq9(0, 1, 2, 3, 0, 1, 2, 3, 1), "phq9_difficulty": 2}
    resource = _response(PHQ9, answers)
    _valid(resource)
    assert resource["status"] == "completed"
    assert resource["questionnaire"] == f"{BASE}/Questionnaire/phq9|2001"
    assert resource["subject"] == {"reference": PATIENT}
    assert resource["authored"] == "2026-03-29T09:30:00+00:00"
    assert [entry["linkId"] for entry in resource["item"]] == [*(f"phq9_{n}" for n in range(1, 10)), "phq9_difficulty"]
    assert resource["item"][8]["answer"] == [{"valueCoding": {"system": fhir.LOINC, "code": "LA6569-3", "display": "Several days"}}]
    assert resource["item"][9]["answer"] == [{"valueCoding": {"system": fhir.LOINC, "code": "LA6575-0", "display": "Very difficult"}}]


def test_an_incomplete_phq9_response_is_in_progress_and_leaves_unanswered_items_out():
    resource = _response(PHQ9, _phq9(1, None, 2, 3, 0, 1, 2, 3, None))
    _valid(resource)
    assert resource["status"] == "in-progress"
    assert "phq9_2" not in [entry["linkId"] for entry in resource["item"]]
    assert "phq9_9" not in [entry["linkId"] for entry in resource["item"]]


def test_an_unanswered_optional_item_does_not_make_a_response_in_progress():
    resource = _response(INSTRUMENTS["presession"], {"week": 7, "agenda": "  "})
    assert resource["status"] == "completed"
    assert [entry["linkId"] for entry in resource["item"]] == ["week"]


def test_free_text_is_exported_as_written():
    resource = _response(INSTRUMENTS["alliance"], {"goals": 8, "tasks": 7, "bond": 9, "note": "We ran out of time at the end."})
    _valid(resource)
    assert resource["item"][3] == {
        "linkId": "note",
        "text": "Anything you'd like me to know about today's session?",
        "answer": [{"valueString": "We ran out of time at the end."}],
    }


def test_an_empty_response_is_valid_and_in_progress():
    resource = _response(PHQ9, {})
    _valid(resource)
    assert resource["status"] == "in-progress"
    assert "item" not in resource


def test_a_bad_answer_is_refused_naming_the_item():
    with pytest.raises(AnswerError, match="phq9_3: 4 is not an allowed value"):
        _response(PHQ9, _phq9(1, 1, 4))


def test_a_naive_authored_time_is_refused():
    with pytest.raises(ValueError, match="authored must be an aware datetime"):
        fhir.questionnaire_response(PHQ9, {}, base=BASE, subject_reference=PATIENT, authored=datetime(2026, 3, 29, 9, 30), response_id="r")


def test_an_id_fhir_cannot_hold_is_refused():
    with pytest.raises(ValueError, match="response_id must be 1-64 letters"):
        _response(PHQ9, {}, response_id="resp_1")


def test_a_response_with_an_unknown_code_is_not_read_back():
    resource = _response(PHQ9, _phq9(1))
    resource["item"][0]["answer"][0]["valueCoding"]["code"] = "LA6572-7"  # a difficulty answer on a frequency item
    with pytest.raises(ValueError, match=re.escape("phq9: phq9_1: no option has the code http://loinc.org|LA6572-7")):
        fhir.answers_from_response(PHQ9, resource, base=BASE)


# --- Observation ---


def test_a_phq9_total_is_an_observation_with_loinc_44261_6():
    resource = _observation(PHQ9, _phq9(2, 2, 2, 2, 2, 1, 1, 1, 0), derived_from="QuestionnaireResponse/resp-1")
    assert resource is not None
    _valid(resource)
    assert resource["status"] == "final"
    assert resource["category"] == [{"coding": [{"system": fhir.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}]
    assert resource["code"]["coding"] == [{"system": fhir.LOINC, "code": "44261-6"}]
    assert resource["valueQuantity"] == {"value": 13, "unit": "{score}", "system": fhir.UCUM, "code": "{score}"}
    assert resource["interpretation"] == [{"text": "Moderate"}]
    assert resource["effectiveDateTime"] == "2026-03-29T09:30:00+00:00"
    assert resource["derivedFrom"] == [{"reference": "QuestionnaireResponse/resp-1"}]
    assert "note" not in resource


def test_a_prorated_total_says_so():
    resource = _observation(PHQ9, _phq9(2, None, 2, 2, 2, 1, 1, 1, 0))
    assert resource is not None
    _valid(resource)
    assert resource["note"] == [{"text": "Total prorated: phq9_2 unanswered, estimated from the mean of the answered items."}]


def test_no_observation_without_a_total():
    assert _observation(PHQ9, _phq9(2, 2, 2, 2, 2, 1, 1, 1, None)) is None
    assert _observation(INSTRUMENTS["who5"], {"who5_1": 3}) is None


def test_a_project_instrument_total_uses_the_installation_code_system_and_has_no_interpretation():
    resource = _observation(INSTRUMENTS["alliance"], {"goals": 8, "tasks": 7, "bond": 9})
    assert resource is not None
    _valid(resource)
    assert resource["code"]["coding"] == [
        {"system": f"{BASE}/CodeSystem/scores", "code": "alliance-total", "display": "After-session check-in total score"}
    ]
    assert resource["valueQuantity"]["value"] == 24
    assert "interpretation" not in resource


def test_the_who5_observation_carries_the_percentage_score():
    resource = _observation(INSTRUMENTS["who5"], {f"who5_{n}": 3 for n in range(1, 6)})
    assert resource is not None
    _valid(resource)
    assert resource["valueQuantity"]["value"] == 60


def test_a_score_for_another_instrument_is_refused():
    with pytest.raises(ValueError, match="the score is for 'gad7', not for 'phq9'"):
        fhir.observation(
            PHQ9,
            score(INSTRUMENTS["gad7"], {f"gad7_{n}": 1 for n in range(1, 8)}),
            base=BASE,
            subject_reference=PATIENT,
            effective=WHEN,
            observation_id="obs-1",
        )


def test_an_effective_time_keeps_its_offset():
    toronto = timezone(timedelta(hours=-4))
    resource = fhir.observation(
        PHQ9, score(PHQ9, _phq9(*[0] * 9)), base=BASE, subject_reference=PATIENT, effective=WHEN.astimezone(toronto), observation_id="o"
    )
    assert resource is not None
    assert resource["effectiveDateTime"] == "2026-03-29T05:30:00-04:00"


# --- Bundle ---


def test_a_collection_bundle_holds_the_response_and_its_observation():
    answers = _phq9(1, 1, 1, 1, 1, 1, 1, 1, 1)
    observation = _observation(PHQ9, answers, derived_from="QuestionnaireResponse/resp-1")
    assert observation is not None
    resource = fhir.bundle([fhir.questionnaire(PHQ9, base=BASE), _response(PHQ9, answers), observation], base=BASE)
    _valid(resource)
    assert resource["type"] == "collection"
    assert [entry["fullUrl"] for entry in resource["entry"]] == [
        f"{BASE}/Questionnaire/phq9-2001",
        f"{BASE}/QuestionnaireResponse/resp-1",
        f"{BASE}/Observation/obs-1",
    ]


def test_a_searchset_bundle_counts_its_entries():
    resource = fhir.bundle([_response(PHQ9, {})], type="searchset")
    _valid(resource)
    assert resource["total"] == 1
    assert "fullUrl" not in resource["entry"][0]


def test_a_bundle_type_that_needs_more_than_resources_is_refused():
    with pytest.raises(ValueError, match="bundle type must be one of collection, searchset, got 'transaction'"):
        fhir.bundle([], type="transaction")


# --- properties ---


def _answers(instrument: Instrument) -> st.SearchStrategy[dict[str, Any]]:
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for item in instrument.items:
        if item.kind == "text":
            parts[item.id] = st.one_of(st.none(), st.text(min_size=1, max_size=40))
        else:
            parts[item.id] = st.one_of(st.none(), st.sampled_from(item.values))
    return st.fixed_dictionaries(parts)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), instrument=st.sampled_from(list(INSTRUMENTS.values())))
def test_any_valid_answers_export_to_a_valid_response_that_reads_back_the_same(data: st.DataObject, instrument: Instrument):
    answers = data.draw(_answers(instrument))
    resource = _response(instrument, answers)
    read_back = _valid(resource)
    given_answers = {
        key: value for key, value in answers.items() if value is not None and not (isinstance(value, str) and not value.strip())
    }
    assert fhir.answers_from_response(instrument, read_back, base=BASE) == given_answers
    assert resource["status"] == ("in-progress" if score(instrument, answers).missing else "completed")


@settings(max_examples=200, deadline=None)
@given(data=st.data(), instrument=st.sampled_from(list(INSTRUMENTS.values())))
def test_the_ordinal_values_of_the_answers_add_up_to_the_raw_total(data: st.DataObject, instrument: Instrument):
    answers = {item.id: data.draw(st.sampled_from(item.values)) for item in instrument.items if item.kind == "choice"}
    result = score(instrument, answers)
    weights = {
        (entry["linkId"], option["valueCoding"]["code"]): option["extension"][0]["valueDecimal"]
        for entry in fhir.questionnaire(instrument, base=BASE)["item"]
        for option in entry.get("answerOption", ())
        if "extension" in option
    }
    response = _response(instrument, answers)
    total = sum(
        weights[(entry["linkId"], entry["answer"][0]["valueCoding"]["code"])]
        for entry in response["item"]
        if (entry["linkId"], entry["answer"][0]["valueCoding"]["code"]) in weights
    )
    assert total == result.raw_total
