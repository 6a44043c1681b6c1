"""Check-in results: the series from stored scores, the client's own page, the therapist's case page,
each check-in's answers, and the FHIR export (validated with fhir.resources' R4B models)."""

from __future__ import annotations

import base64
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from fhir.resources.R4B import get_fhir_model_class

from rapport.audit.models import AuditEvent
from rapport.measures import instruments
from rapport.measures.change import NO_RELIABLE_CHANGE, RELIABLE_IMPROVEMENT
from rapport.measures.series import NO_PUBLISHED_RULE, NOT_VALIDATED, _completed, case_results_read, change_rule, client_results_read
from rapport.reports.results import client_sentence
from tests.personas import World
from tests.results import CORA_NOTE, PAT_NOTE, QUINN_AGENDA, cora_course, couple_course

PHQ9_BANDS = ("None\u2013minimal", "Mild", "Moderate", "Moderately severe", "Severe")


def _mark() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _events_since(mark: int, **filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=mark, **filters).order_by("id"))


def _svg(data_uri: str) -> str:
    return base64.b64decode(data_uri.split(",", 1)[1]).decode()


def _measures_url(world: World, couple: bool = False) -> str:
    case = world.couple_case if couple else world.individual_case
    return reverse("workspace:case_measures", kwargs={"case_id": case.public_id})


# --- The series ----------------------------------------------------------------------------------------


def test_the_series_reads_stored_scores_and_classifies_change_against_the_first_score(world: World):
    sent = cora_course(world)
    results = client_results_read(user=world.client.user, client=world.client)
    phq9 = next(s for s in results if s.instrument.key == "phq9")
    assert [p.total for p in phq9.points] == [18, 15, 16, None, 9]
    assert [p.band for p in phq9.points] == ["moderately_severe", "moderately_severe", "moderately_severe", "", "mild"]
    assert [p.band_label for p in phq9.points][-1] == "Mild"
    assert [p.prorated for p in phq9.points] == [False, False, True, False, False]
    assert [p.scorable for p in phq9.points] == [True, True, True, False, True]
    assert phq9.baseline is not None
    assert phq9.baseline.administration_id == str(sent["phq9_first"].public_id)
    assert [p.change.classification if p.change else None for p in phq9.points] == [
        None,
        NO_RELIABLE_CHANGE,
        NO_RELIABLE_CHANGE,
        None,
        RELIABLE_IMPROVEMENT,
    ]
    latest = phq9.latest_change
    assert latest is not None
    assert latest.difference == -9
    assert latest.threshold == 6
    assert latest.rule == "fixed_threshold"
    assert "NHS Talking Therapies" in latest.source
    assert [p.total for p in phq9.changes_to_mark] == [9]


def test_the_series_never_fetches_the_encrypted_answers(world: World):
    cora_course(world)
    rows = _completed([world.client], None)
    assert rows
    assert all("answers" in row.get_deferred_fields() for row in rows)


def test_each_instrument_says_which_reliable_change_rule_applies_or_why_none_does():
    phq9 = change_rule(instruments.load("phq9"))
    assert (phq9.applies, phq9.threshold, phq9.rule) == (True, 6, "fixed_threshold")
    assert change_rule(instruments.load("gad7")).threshold == 4
    assert change_rule(instruments.load("who5")).why_not == NO_PUBLISHED_RULE
    for own in ("alliance", "presession"):
        assert change_rule(instruments.load(own)).why_not == NOT_VALIDATED


def test_a_client_reads_only_their_own_results_and_the_read_is_recorded(world: World):
    couple_course(world)
    mark = _mark()
    with pytest.raises(PermissionDenied):
        client_results_read(user=world.partner_b.user, client=world.partner_a)
    with pytest.raises(PermissionDenied):
        client_results_read(user=world.user("therapist_a"), client=world.partner_a)
    assert _events_since(mark) == []
    own = client_results_read(user=world.partner_a.user, client=world.partner_a)
    assert {s.instrument.key for s in own} == {"presession", "alliance"}
    assert all(s.client == world.partner_a for s in own)
    (event,) = _events_since(mark)
    assert (event.action, event.object_type, event.client_id, event.detail) == (
        "view",
        "measures.results",
        world.partner_a.public_id,
        {"fields": ["scores"]},
    )


@pytest.mark.parametrize("persona", ["therapist_b", "admin", "supervisor", "partner_a"])
def test_only_the_cases_therapist_reads_a_cases_results(persona: str, world: World):
    couple_course(world)
    mark = _mark()
    with pytest.raises(PermissionDenied):
        case_results_read(user=world.user(persona), case=world.couple_case)
    assert _events_since(mark) == []


def test_the_therapist_reads_both_partners_and_each_partners_record_shows_it(world: World):
    couple_course(world)
    mark = _mark()
    results = case_results_read(user=world.user("therapist_a"), case=world.couple_case)
    assert set(results) == {world.partner_a.pk, world.partner_b.pk}
    quinn = next(s for s in results[world.partner_b.pk] if s.instrument.key == "presession")
    assert [p.total for p in quinn.points] == [6, 2]
    assert quinn.latest_change is None  # our own check-in: no rule, no classification
    events = _events_since(mark)
    assert sorted(str(e.client_id) for e in events) == sorted(str(c.public_id) for c in (world.partner_a, world.partner_b))
    assert {(e.action, e.object_type, json.dumps(e.detail)) for e in events} == {("view", "clients.case", '{"fields": ["scores"]}')}


def test_the_clients_sentence_gives_numbers_and_direction_without_a_verdict(world: World):
    cora_course(world)
    phq9 = next(s for s in client_results_read(user=world.client.user, client=world.client) if s.instrument.key == "phq9")
    words = client_sentence(phq9, ZoneInfo("America/Toronto"))
    assert "Your first was 18 on 3 March 2026. Your latest, 9 on 14 April 2026, is 9 points lower than your first." in words
    assert "One check-in could not be given a score" in words
    assert "a lower score means" in words
    assert "less than 6 points can come from the ordinary ups and downs" in words
    assert "not a diagnosis" in words
    for judgement in (*PHQ9_BANDS, "depress", "improve", "deteriorat", "reliable", "better", "worse"):
        assert judgement.lower() not in words.lower()


# --- The client's page ---------------------------------------------------------------------------------


def test_the_client_sees_their_scores_as_a_chart_a_table_and_words(world: World, client_as: Any):
    cora_course(world)
    response = client_as("client").get(reverse("portal:results"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "My check-in results" in page
    assert "9 points lower than your first" in page
    (phq9,) = [r for r in response.context["results"] if r.key == "phq9"]
    assert f'src="{phq9.chart_uri}"' in page
    assert phq9.description.startswith("Your PHQ-9 scores. Your scores over time. You, from 3 March 2026 to 14 April 2026:")
    assert [(row.written_date, row.values) for row in phq9.rows] == [
        ("3 March 2026", ("18",)),
        ("17 March 2026", ("15",)),
        ("24 March 2026", ("16 (prorated)",)),
        ("31 March 2026", ("no score",)),
        ("14 April 2026", ("9",)),
    ]
    # No band name and no "reliable" marker anywhere the client reads: not on the page, not in the chart.
    svg = _svg(phq9.chart_uri)
    for judgement in (*PHQ9_BANDS, "reliable improvement", "Shaded ranges"):
        assert judgement not in page
        assert judgement not in svg
    # Our own check-in is shown as what it is: the client's own ratings, added together.
    assert "Your ratings after each session, added together (0 to 30)" in page
    assert "22 out of 30" in page


def test_a_partner_sees_their_own_results_and_never_the_other_partners(world: World, client_as: Any):
    couple_course(world)
    pat = client_as("partner_a").get(reverse("portal:results"))
    (presession,) = [r for r in pat.context["results"] if r.key == "presession"]
    assert [row.values for row in presession.rows] == [("3",), ("8",)]
    page = pat.content.decode()
    assert "Your first was 3 out of 10 on 5 March 2026" in page
    assert QUINN_AGENDA not in page
    assert "Quinn" not in page
    assert "Pat Partner" not in page
    quinn = client_as("partner_b").get(reverse("portal:results"))
    assert [r.key for r in quinn.context["results"]] == ["presession"]
    (quinn_presession,) = quinn.context["results"]
    assert [row.values for row in quinn_presession.rows] == [("6",), ("2",)]
    assert PAT_NOTE not in quinn.content.decode()


def test_a_client_with_no_results_is_told_so(world: World, client_as: Any):
    response = client_as("client").get(reverse("portal:results"))
    assert response.status_code == 200
    assert "You have no check-in results yet." in response.content.decode()


def test_the_portal_home_links_to_the_results(world: World, client_as: Any):
    assert reverse("portal:results") in client_as("client").get(reverse("portal:home")).content.decode()


# --- The therapist's case page --------------------------------------------------------------------------


def test_the_therapist_sees_bands_markers_and_the_reliable_change_rule_with_its_source(world: World, client_as: Any):
    sent = cora_course(world)
    response = client_as("therapist_a").get(_measures_url(world))
    assert response.status_code == 200
    page = response.content.decode()
    (phq9,) = [r for r in response.context["results"] if r.key == "phq9"]
    assert "Shaded ranges: None\u2013minimal 0 to 4, Mild 5 to 9" in phq9.description
    assert "A reliable improvement for Cora Client on 14 April 2026." in phq9.description
    assert "reliable improvement" in _svg(phq9.chart_uri)
    (change,) = phq9.changes
    assert (change.classification, change.threshold) == ("reliable improvement", 6)
    assert "published fixed threshold: a change of 6 points or more" in page
    assert "NHS Talking Therapies (IAPT) reliable improvement: a fall of 6 or more" in page
    (alliance,) = [r for r in response.context["results"] if r.key == "alliance"]
    assert alliance.changes[0].why_not == NOT_VALIDATED
    # Every completed check-in is listed with a link to its answers.
    for administration in sent.values():
        assert (
            reverse("workspace:case_checkin", kwargs={"case_id": world.individual_case.public_id, "checkin_id": administration.public_id})
            in page
        )
    assert (
        reverse("workspace:client_fhir", kwargs={"case_id": world.individual_case.public_id, "client_id": world.client.public_id}) in page
    )


def test_the_therapist_sees_both_partners_side_by_side(world: World, client_as: Any):
    couple_course(world)
    response = client_as("therapist_a").get(_measures_url(world, couple=True))
    (presession,) = [r for r in response.context["results"] if r.key == "presession"]
    assert presession.columns == ("Pat Partner", "Quinn Partner")
    assert [row.values for row in presession.rows] == [("3", "6"), ("8", "2")]
    assert "Pat Partner, from 5 March 2026 to 19 March 2026: 3 on 5 March 2026, 8 on 19 March 2026." in presession.description
    assert "Quinn Partner, from 5 March 2026 to 19 March 2026: 6 on 5 March 2026, 2 on 19 March 2026." in presession.description
    (alliance,) = [r for r in response.context["results"] if r.key == "alliance"]
    assert alliance.columns == ("Pat Partner",)


def test_the_case_page_links_to_the_results(world: World, client_as: Any):
    page = client_as("therapist_a").get(reverse("workspace:case_detail", kwargs={"case_id": world.individual_case.public_id}))
    assert _measures_url(world) in page.content.decode()


# --- One check-in's answers ----------------------------------------------------------------------------


def _checkin_url(case: Any, administration: Any) -> str:
    return reverse("workspace:case_checkin", kwargs={"case_id": case.public_id, "checkin_id": administration.public_id})


def test_the_therapist_reads_a_check_ins_answers_free_text_included_and_the_read_is_recorded(world: World, client_as: Any):
    sent = couple_course(world)
    mark = _mark()
    response = client_as("therapist_a").get(_checkin_url(world.couple_case, sent["pat_alliance"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Anything you&#x27;d like me to know about today&#x27;s session?" in page
    assert "it was hard to talk with Quinn in the room today." in page
    assert "I felt at ease working with my therapist today." in page
    (event,) = _events_since(mark, action="view")
    assert (event.action, event.object_type, event.object_id, event.client_id) == (
        "view",
        "measures.administration",
        sent["pat_alliance"].public_id,
        world.partner_a.public_id,
    )
    assert CORA_NOTE not in page


@pytest.mark.parametrize(("persona", "status"), [("therapist_b", 404), ("admin", 403), ("supervisor", 403), ("partner_b", 403)])
def test_no_one_else_reads_a_check_ins_answers(persona: str, status: int, world: World, client_as: Any):
    sent = couple_course(world)
    mark = _mark()
    response = client_as(persona).get(_checkin_url(world.couple_case, sent["pat_alliance"]))
    assert response.status_code == status
    assert PAT_NOTE not in response.content.decode()
    assert _events_since(mark, action="view") == []


def test_a_check_in_of_another_case_is_not_found_under_this_one(world: World, client_as: Any):
    sent = cora_course(world)
    response = client_as("therapist_a").get(_checkin_url(world.couple_case, sent["alliance"]))
    assert response.status_code == 404


# --- FHIR export ---------------------------------------------------------------------------------------


def _fhir_url(case: Any, client: Any) -> str:
    return reverse("workspace:client_fhir", kwargs={"case_id": case.public_id, "client_id": client.public_id})


def _validated(bundle: dict[str, Any]) -> None:
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle.get("entry", ()):
        get_fhir_model_class(entry["resource"]["resourceType"]).model_validate(entry["resource"])


def test_the_fhir_export_is_a_valid_bundle_with_loinc_totals_and_is_recorded_as_an_export(world: World, client_as: Any, settings):
    settings.SITE_URL = "https://harbour.example"
    sent = cora_course(world)
    mark = _mark()
    response = client_as("therapist_a").get(_fhir_url(world.individual_case, world.client))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"] == f'attachment; filename="check-ins-{world.client.public_id}.fhir.json"'
    assert response["Cache-Control"] == "no-store"
    bundle = json.loads(response.content)
    _validated(bundle)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    resources = [entry["resource"] for entry in bundle["entry"]]
    kinds = [r["resourceType"] for r in resources]
    assert kinds.count("Questionnaire") == 3  # PHQ-9, GAD-7 and the after-session check-in, once each
    assert kinds.count("QuestionnaireResponse") == len(sent) == 7
    # One Observation per scored check-in: the PHQ-9 without a score has none.
    assert kinds.count("Observation") == 6
    phq9_totals = [r for r in resources if r["resourceType"] == "Observation" and r["code"]["coding"][0].get("code") == "44261-6"]
    assert [o["valueQuantity"]["value"] for o in phq9_totals] == [18, 15, 16, 9]
    assert {o["subject"]["reference"] for o in phq9_totals} == {f"Patient/{world.client.public_id}"}
    assert all(o["code"]["coding"][0]["system"] == "http://loinc.org" for o in phq9_totals)
    assert "Total prorated" in phq9_totals[2]["note"][0]["text"]
    note = next(r for r in resources if r["resourceType"] == "QuestionnaireResponse" and r["id"] == f"qr-{sent['alliance'].public_id}")
    assert {"valueString": CORA_NOTE} in [a for item in note["item"] for a in item["answer"]]
    assert all(entry["fullUrl"].startswith("https://harbour.example/fhir/") for entry in bundle["entry"])
    (event,) = _events_since(mark, action="export")
    assert (event.action, event.object_type, event.client_id) == ("export", "measures.results", world.client.public_id)
    assert event.detail == {"format": "fhir", "case": str(world.individual_case.public_id), "check_ins": 7, "left_out": 0}
    assert CORA_NOTE not in json.dumps(event.detail)


def test_a_client_with_nothing_to_export_gets_a_valid_empty_bundle(world: World, client_as: Any):
    response = client_as("therapist_a").get(_fhir_url(world.couple_case, world.partner_b))
    assert response.status_code == 200
    bundle = json.loads(response.content)
    _validated(bundle)
    assert "entry" not in bundle


def test_the_fhir_export_holds_only_that_partners_check_ins(world: World, client_as: Any):
    couple_course(world)
    bundle = json.loads(client_as("therapist_a").get(_fhir_url(world.couple_case, world.partner_b)).content)
    _validated(bundle)
    subjects = {e["resource"]["subject"]["reference"] for e in bundle["entry"] if "subject" in e["resource"]}
    assert subjects == {f"Patient/{world.partner_b.public_id}"}
    assert PAT_NOTE not in json.dumps(bundle)


@pytest.mark.parametrize(("persona", "status"), [("therapist_b", 404), ("admin", 403), ("supervisor", 403), ("client", 403)])
def test_no_one_but_the_therapist_exports(persona: str, status: int, world: World, client_as: Any):
    cora_course(world)
    mark = _mark()
    response = client_as(persona).get(_fhir_url(world.individual_case, world.client))
    assert response.status_code == status
    assert _events_since(mark, action="export") == []


def test_a_client_outside_the_case_is_not_exported_under_it(world: World, client_as: Any):
    couple_course(world)
    response = client_as("therapist_a").get(_fhir_url(world.individual_case, world.partner_a))
    assert response.status_code == 404


def test_each_partners_record_access_list_names_the_read_of_their_scores(world: World, client_as: Any):
    couple_course(world)
    client_as("therapist_a").get(_measures_url(world, couple=True))
    for persona in ("partner_a", "partner_b"):
        page = client_as(persona).get(reverse("portal:record_access")).content.decode()
        assert "Theo Treating" in page
        assert "opened your therapy record: check-in scores" in page
