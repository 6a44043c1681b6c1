"""FHIR R4 (4.0.1) export of instruments, answers and totals, as plain JSON-ready dicts.

``questionnaire`` turns an instrument into a Questionnaire, ``questionnaire_response`` one set of
answers into a QuestionnaireResponse, ``observation`` a scored total into an Observation, and
``bundle`` wraps any of them in a collection Bundle. docs/fhir.md lists every code used.

Runtime code emits dicts and needs no FHIR library; the tests validate every shape with the
``fhir.resources`` models. Each resource is named under ``base``, the installation's own FHIR
address (its SITE_URL plus ``/fhir``): Rapport has no project-wide domain, so canonical URLs and the
code systems for answers and totals that have no LOINC code belong to the installation that
publishes them. LOINC codes, where the instrument file has them, are what other systems match on.

Pure: no Django import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from rapport.measures.instruments import Instrument, Item, Option
from rapport.measures.scoring import Score, score

FHIR_VERSION = "4.0.1"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
BUNDLE_TYPES = ("collection", "searchset")

_NOT_ID = re.compile(r"[^A-Za-z0-9.-]")
_ID = re.compile(r"^[A-Za-z0-9.-]{1,64}$")
# Item ids start with a letter (instruments.py), so this linkId can never be an item's.
STEM_LINK_ID = "_stem"

JSON = dict[str, Any]


# --- names -----------------------------------------------------------------------------------------


def questionnaire_id(instrument: Instrument) -> str:
    """A FHIR id for one version of an instrument: ``phq9-2001`` (FHIR ids allow no underscore)."""
    return _NOT_ID.sub("-", f"{instrument.key}-{instrument.version}")[:64]


def questionnaire_url(instrument: Instrument, *, base: str) -> str:
    return f"{_base(base)}/Questionnaire/{_NOT_ID.sub('-', instrument.key)}"


def questionnaire_canonical(instrument: Instrument, *, base: str) -> str:
    """The versioned canonical a response points at: ``url|version``."""
    return f"{questionnaire_url(instrument, base=base)}|{instrument.version}"


def answer_system(instrument: Instrument, item: Item, *, base: str) -> str:
    """The code system for an item's options that carry no LOINC answer code: one per item.

    One system per item, not per instrument: two option sets of one instrument may give the same
    value different labels, and a code system must give each code one meaning.
    """
    return f"{_base(base)}/CodeSystem/{_NOT_ID.sub('-', instrument.key)}/{_NOT_ID.sub('-', item.id)}"


def score_system(*, base: str) -> str:
    """The code system for totals that have no LOINC code; its codes are ``<instrument key>-total``."""
    return f"{_base(base)}/CodeSystem/scores"


def _base(base: str) -> str:
    if not base.startswith(("https://", "http://")):
        raise ValueError(f"base must be the installation's http(s) FHIR address, got {base!r}")
    return base.rstrip("/")


def _checked_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"{what} must be 1-64 letters, digits, '-' or '.', got {value!r}")
    return value


def _instant(value: datetime, what: str) -> str:
    # FHIR requires a time zone on any dateTime with a time; a naive one would be read as local time.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime, got a naive one: {value.isoformat()}")
    return value.isoformat()


# --- codings ---------------------------------------------------------------------------------------


def _option_coding(instrument: Instrument, item: Item, option: Option, *, base: str) -> JSON:
    if option.loinc:
        return {"system": LOINC, "code": option.loinc, "display": option.label}
    return {"system": answer_system(instrument, item, base=base), "code": str(option.value), "display": option.label}


def _system_code(coding: Mapping[str, Any]) -> tuple[Any, Any]:
    return coding.get("system"), coding.get("code")


def _ordinal(item: Item, option: Option) -> int:
    # The weight the option adds to the total: a reverse-scored item counts from the other end.
    return item.min_value + item.max_value - option.value if item.reverse else option.value


def _total_coding(instrument: Instrument, *, base: str) -> JSON:
    # LOINC's own display names are not in the instrument files, and a made-up display on a LOINC
    # code is an error to a terminology check; code.text carries the words instead.
    if instrument.loinc.total:
        return {"system": LOINC, "code": instrument.loinc.total}
    return {"system": score_system(base=base), "code": f"{instrument.key}-total", "display": f"{instrument.name} total score"}


# --- Questionnaire ---------------------------------------------------------------------------------


def questionnaire(instrument: Instrument, *, base: str) -> JSON:
    """The instrument as a FHIR R4 Questionnaire.

    Each item's linkId is its id in the instrument file. Choice items list their options as
    Codings (LOINC answer codes where the file has them) and, on scored items only, the weight each
    option adds to the total in the ``ordinalValue`` extension: the PHQ-9 difficulty item has no
    published weights, so it gets none. An item whose wording is not shipped (data collection only,
    e.g. the WHO-5) has no ``text``: FHIR makes it optional, and inventing wording is what the
    licence and the evidence rules forbid.
    """
    items: list[JSON] = []
    if instrument.stem:
        items.append({"linkId": STEM_LINK_ID, "text": instrument.stem, "type": "display"})
    for item in instrument.items:
        entry: JSON = {"linkId": item.id, "prefix": item.number}
        if item.loinc:
            entry["code"] = [{"system": LOINC, "code": item.loinc}]
        if item.text is not None:
            entry["text"] = item.text
        if item.kind == "text":
            entry["type"] = "text"
        else:
            entry["type"] = "choice"
            options = []
            for option in item.options:
                answer: JSON = {"valueCoding": _option_coding(instrument, item, option, base=base)}
                if item.scored:
                    answer["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": _ordinal(item, option)}]
                options.append(answer)
            entry["answerOption"] = options
        items.append(entry)

    resource: JSON = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument),
        "url": questionnaire_url(instrument, base=base),
        "version": instrument.version,
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "copyright": instrument.licence.statement,
        "item": items,
    }
    if instrument.loinc.panel:
        resource["code"] = [{"system": LOINC, "code": instrument.loinc.panel}]
    return resource


# --- QuestionnaireResponse -------------------------------------------------------------------------


def _given(value: object) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def questionnaire_response(
    instrument: Instrument,
    answers: Mapping[str, object],
    *,
    base: str,
    subject_reference: str,
    authored: datetime,
    response_id: str,
) -> JSON:
    """One set of answers (item id -> option value or free text) as a FHIR R4 QuestionnaireResponse.

    The answers are checked as ``scoring.score`` checks them, so a bad one raises ``AnswerError``
    naming the item. The status is ``completed`` when every scored item is answered and
    ``in-progress`` otherwise; unanswered items are left out. Free text (the check-ins' notes and
    agendas) is included: the response is the client's own record, for the client or a system
    they have authorised, so the caller must scope and audit it like any clinical read.
    """
    result = score(instrument, answers)
    items: list[JSON] = []
    for item in instrument.items:
        value = answers.get(item.id)
        if not _given(value):
            continue
        entry: JSON = {"linkId": item.id}
        if item.text is not None:
            entry["text"] = item.text
        if item.kind == "text":
            entry["answer"] = [{"valueString": value}]
        else:
            option = next(option for option in item.options if option.value == value)
            entry["answer"] = [{"valueCoding": _option_coding(instrument, item, option, base=base)}]
        items.append(entry)

    resource: JSON = {
        "resourceType": "QuestionnaireResponse",
        "id": _checked_id(response_id, "response_id"),
        "questionnaire": questionnaire_canonical(instrument, base=base),
        "status": "in-progress" if result.missing else "completed",
        "subject": {"reference": subject_reference},
        "authored": _instant(authored, "authored"),
    }
    if items:
        resource["item"] = items
    return resource


def answers_from_response(instrument: Instrument, response: Mapping[str, Any], *, base: str) -> dict[str, object]:
    """Read a response made by ``questionnaire_response`` back into item id -> value.

    Used to check the export loses nothing; an answer this instrument cannot have raises ValueError.
    """
    answers: dict[str, object] = {}
    for entry in response.get("item", ()):
        item = instrument.item(entry["linkId"])
        (answer,) = entry["answer"]
        if item.kind == "text":
            answers[item.id] = answer["valueString"]
            continue
        coding = answer["valueCoding"]
        key = (coding.get("system"), coding.get("code"))
        matches = [option for option in item.options if _system_code(_option_coding(instrument, item, option, base=base)) == key]
        if len(matches) != 1:
            raise ValueError(f"{instrument.key}: {item.id}: no option has the code {coding.get('system')}|{coding.get('code')}")
        answers[item.id] = matches[0].value
    return answers


# --- Observation -----------------------------------------------------------------------------------


def observation(
    instrument: Instrument,
    result: Score,
    *,
    base: str,
    subject_reference: str,
    effective: datetime,
    observation_id: str,
    derived_from: str | None = None,
) -> JSON | None:
    """The total as a FHIR R4 Observation (category ``survey``, status ``final``), or None when unscorable.

    The code is the instrument's LOINC total-score code where its file has one (PHQ-9: 44261-6),
    otherwise ``<key>-total`` in this installation's score code system. The value is a Quantity
    with the UCUM unit ``{score}``. A published instrument's severity band goes in
    ``interpretation.text`` in the published wording ("Moderate"), never as a diagnosis; a
    project instrument has no bands. A prorated total says so in a note. No total, no
    Observation: an unscorable administration is exported as its QuestionnaireResponse only.
    """
    if result.instrument != instrument.key:
        raise ValueError(f"the score is for {result.instrument!r}, not for {instrument.key!r}")
    if not result.scorable or result.total is None:
        return None

    resource: JSON = {
        "resourceType": "Observation",
        "id": _checked_id(observation_id, "observation_id"),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}],
        "code": {"coding": [_total_coding(instrument, base=base)], "text": f"{instrument.name} total score"},
        "subject": {"reference": subject_reference},
        "effectiveDateTime": _instant(effective, "effective"),
        "valueQuantity": {"value": result.total, "unit": "{score}", "system": UCUM, "code": "{score}"},
    }
    band = instrument.bands.find(result.total) if instrument.bands is not None else None
    if band is not None and instrument.authorship == "published":
        resource["interpretation"] = [{"text": band.label}]
    if result.prorated:
        missing = ", ".join(result.missing)
        resource["note"] = [{"text": f"Total prorated: {missing} unanswered, estimated from the mean of the answered items."}]
    if derived_from is not None:
        resource["derivedFrom"] = [{"reference": derived_from}]
    return resource


# --- Bundle ----------------------------------------------------------------------------------------


def bundle(resources: Iterable[Mapping[str, Any]], *, type: str = "collection", base: str | None = None) -> JSON:
    """Resources in a FHIR Bundle; with ``base``, each entry gets its full URL under it.

    Only ``collection`` and ``searchset``: the other Bundle types need a Composition, a
    MessageHeader or request details that an export does not have.
    """
    if type not in BUNDLE_TYPES:
        raise ValueError(f"bundle type must be one of {', '.join(BUNDLE_TYPES)}, got {type!r}")
    entries: list[JSON] = []
    for resource in resources:
        entry: JSON = {"resource": dict(resource)}
        if base is not None:
            entry["fullUrl"] = f"{_base(base)}/{resource['resourceType']}/{resource['id']}"
        entries.append(entry)
    result: JSON = {"resourceType": "Bundle", "type": type}
    # FHIR JSON forbids empty arrays: a client with nothing to export gets a Bundle without entries.
    if entries:
        result["entry"] = entries
    if type == "searchset":
        result["total"] = len(entries)
    return result
