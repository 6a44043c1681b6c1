"""Check-ins that rate the plan record the plan version they were answered against (docs/checkins.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rapport.measures.models import Administration
from rapport.measures.services import administrations_for_appointment, answers_save
from rapport.plans.models import PlanVersion
from rapport.plans.services import plan_item_revise, plan_propose_goal
from rapport.scheduling.models import Appointment
from tests.checkins import NOW, book, prepare
from tests.personas import World

ALLIANCE = {"goals": 7, "tasks": 8, "bond": 9}


@pytest.fixture
def ready(world: World) -> World:
    return prepare(world)


def _newest(world: World, couple: bool = False) -> PlanVersion:
    case = world.couple_case if couple else world.individual_case
    return PlanVersion.objects.filter(plan__case=case).order_by("-number").first()


def _of(appointment: Appointment, key: str, client=None) -> Administration:  # type: ignore[no-untyped-def]
    rows = Administration.objects.filter(appointment=appointment, instrument_key=key)
    return rows.get(client=client) if client is not None else rows.get()


def test_the_after_session_check_in_records_the_newest_plan_version_when_it_is_created(ready):
    therapist = ready.user("therapist_a")
    plan_propose_goal(actor=therapist, case=ready.individual_case, words="Sleep through the night")
    plan_propose_goal(actor=ready.user("client"), case=ready.individual_case, words="Walk every morning")
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    alliance = _of(appointment, "alliance")
    assert alliance.plan_version is not None
    assert alliance.plan_version.number == 2
    assert alliance.plan_version == _newest(ready)


def test_symptom_questionnaires_record_no_plan_version(ready):
    plan_propose_goal(actor=ready.user("therapist_a"), case=ready.individual_case, words="Sleep through the night")
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    assert _of(appointment, "phq9").plan_version is None
    assert _of(appointment, "gad7").plan_version is None
    assert _of(appointment, "alliance").plan_version is not None


def test_a_case_without_a_plan_records_none_and_sending_later_picks_up_the_plan_written_since(ready):
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    alliance = _of(appointment, "alliance")
    assert alliance.plan_version is None
    plan_propose_goal(actor=ready.user("therapist_a"), case=ready.individual_case, words="Sleep through the night")
    result = answers_save(
        administration=alliance, answers=ALLIANCE, final=True, actor=ready.user("client"), now=appointment.end + timedelta(hours=1)
    )
    assert result.administration.plan_version == _newest(ready)
    alliance.refresh_from_db()
    assert alliance.plan_version is not None
    assert alliance.plan_version.number == 1


def test_sending_moves_it_to_the_plan_as_it_stands_then_and_a_partial_save_does_not(ready):
    therapist = ready.user("therapist_a")
    goal = plan_propose_goal(actor=therapist, case=ready.individual_case, words="Sleep through the night")
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    alliance = _of(appointment, "alliance")
    assert alliance.plan_version is not None
    assert alliance.plan_version.number == 1
    # The goal is reworded in the session, before the client answers.
    plan_item_revise(actor=therapist, revision=goal, words="Sleep six hours most nights")
    after = appointment.end + timedelta(minutes=30)
    answers_save(administration=alliance, answers={"goals": 7}, final=False, actor=ready.user("client"), now=after)
    alliance.refresh_from_db()
    assert alliance.plan_version is not None
    assert alliance.plan_version.number == 1
    answers_save(administration=alliance, answers={"tasks": 8, "bond": 9}, final=True, actor=ready.user("client"), now=after)
    alliance.refresh_from_db()
    assert alliance.plan_version is not None
    assert alliance.plan_version.number == 2
    assert alliance.status == "completed"


def test_a_change_after_sending_does_not_move_it(ready):
    therapist = ready.user("therapist_a")
    plan_propose_goal(actor=therapist, case=ready.individual_case, words="Sleep through the night")
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    alliance = _of(appointment, "alliance")
    answers_save(
        administration=alliance, answers=ALLIANCE, final=True, actor=ready.user("client"), now=appointment.end + timedelta(hours=1)
    )
    plan_propose_goal(actor=therapist, case=ready.individual_case, words="Call a friend each week")
    alliance.refresh_from_db()
    assert alliance.plan_version is not None
    assert alliance.plan_version.number == 1
    assert _newest(ready).number == 2


def test_each_partner_of_a_couple_records_the_same_shared_plan_version(ready):
    plan_propose_goal(actor=ready.user("partner_a"), case=ready.couple_case, words="Argue less about money")
    plan_propose_goal(actor=ready.user("partner_b"), case=ready.couple_case, words="Quinn's own goal", owner=ready.partner_b)
    appointment = book(ready, "couple")
    administrations_for_appointment(appointment, now=NOW)
    newest = _newest(ready, couple=True)
    assert _of(appointment, "alliance", ready.partner_a).plan_version == newest
    assert _of(appointment, "alliance", ready.partner_b).plan_version == newest
    assert _of(appointment, "presession", ready.partner_a).plan_version is None
