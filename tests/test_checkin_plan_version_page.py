"""The therapist's check-in page says which plan version an after-session check-in rated, with a link to it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse

from rapport.measures.models import Administration
from rapport.measures.services import administrations_for_appointment, answers_save
from rapport.plans.services import plan_propose_goal
from tests.checkins import NOW, PHQ9_NO_RISK, book, phq9_of, prepare
from tests.personas import World


def _checkin_url(administration: Administration) -> str:
    return reverse("workspace:case_checkin", kwargs={"case_id": administration.case.public_id, "checkin_id": administration.public_id})


def test_the_alliance_check_in_links_the_plan_version_it_was_answered_against(world: World, client_as: Any):
    prepare(world)
    therapist = world.user("therapist_a")
    plan_propose_goal(actor=therapist, case=world.individual_case, words="Sleep through the night")
    plan_propose_goal(actor=therapist, case=world.individual_case, words="Walk every morning")
    appointment = book(world)
    administrations_for_appointment(appointment, now=NOW)
    alliance = Administration.objects.get(appointment=appointment, instrument_key="alliance")
    answers_save(
        administration=alliance,
        answers={"goals": 6, "tasks": 7, "bond": 8},
        final=True,
        actor=world.user("client"),
        now=appointment.end + timedelta(hours=2),
    )
    # A change after sending: the page still names the version the client rated.
    plan_propose_goal(actor=therapist, case=world.individual_case, words="Call a friend each week")
    response = client_as("therapist_a").get(_checkin_url(alliance))
    assert response.status_code == 200
    page = response.content.decode()
    link = reverse("workspace:case_plan_version", kwargs={"case_id": world.individual_case.public_id, "number": 2})
    assert f'Rated against <a href="{link}">plan version 2</a>' in page
    assert client_as("therapist_a").get(link).status_code == 200


def test_a_symptom_questionnaire_names_no_plan_version(world: World, client_as: Any):
    prepare(world)
    plan_propose_goal(actor=world.user("therapist_a"), case=world.individual_case, words="Sleep through the night")
    appointment = book(world)
    administrations_for_appointment(appointment, now=NOW)
    phq9 = phq9_of(appointment)
    answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, actor=world.user("client"), now=NOW)
    response = client_as("therapist_a").get(_checkin_url(phq9))
    assert response.status_code == 200
    assert "Rated against" not in response.content.decode()


def test_a_check_in_sent_before_the_case_had_a_plan_names_none(world: World, client_as: Any):
    prepare(world)
    appointment = book(world)
    administrations_for_appointment(appointment, now=NOW)
    alliance = Administration.objects.get(appointment=appointment, instrument_key="alliance")
    answers_save(
        administration=alliance,
        answers={"goals": 6, "tasks": 7, "bond": 8},
        final=True,
        actor=world.user("client"),
        now=appointment.end + timedelta(hours=2),
    )
    response = client_as("therapist_a").get(_checkin_url(alliance))
    assert response.status_code == 200
    assert "Rated against" not in response.content.decode()
