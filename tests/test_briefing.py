"""The pre-session briefing: what the therapist reads, what is recorded, what it costs, and today's badges."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.audit.models import AuditEvent
from rapport.clients.services import case_open, client_create
from rapport.insights.models import Signal, SignalStatus
from rapport.insights.services import signals_detect
from rapport.measures.models import Administration, AdministrationStatus, Timing
from rapport.plans.services import action_step_add, action_step_complete, plan_propose_goal
from rapport.practice.models import ServiceKind
from tests.briefings import course, for_session, session
from tests.personas import World
from tests.results import sent, when

pytestmark = pytest.mark.django_db

QUINN_AGENDA = "Fictional: Quinn wants to talk about who does the school run."
OLD_AGENDA = "Fictional: last week's worry about the car."


def _url(appointment) -> str:
    return reverse("workspace:appointment_briefing", kwargs={"appointment_id": appointment.public_id})


def _couple(world: World, sessions: int = 3):
    case = world.couple_case
    past, upcoming = course(case, sessions)
    for_session(sent(world.partner_b, case, "presession", {"week": 4, "agenda": QUINN_AGENDA}, timezone.now()), upcoming)
    for_session(sent(world.partner_a, case, "presession", {"week": 6, "agenda": OLD_AGENDA}, past[-1].start - timedelta(hours=3)), past[-1])
    signals_detect(case, now=timezone.now())
    therapist = world.user("therapist_a")
    goal = plan_propose_goal(actor=therapist, case=case, words="Fictional: argue less about money.")
    plan_propose_goal(actor=therapist, case=case, words="Fictional: one evening a week together.")
    done = action_step_add(actor=therapist, item=goal.item, text="Fictional: write down one expense each.")
    action_step_complete(actor=world.user("partner_a"), step=done)
    action_step_add(actor=therapist, item=goal.item, text="Fictional: a ten-minute talk on Sunday.")
    return past, upcoming


def test_the_therapist_reads_a_couples_briefing_on_one_page(world: World, client_as):
    _past, upcoming = _couple(world)
    response = client_as("therapist_a").get(_url(upcoming))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "Briefing: Pat Partner &amp; Quinn Partner" in html
    # What Quinn wants to talk about this time; Pat's words from last week are not this session's.
    assert QUINN_AGENDA in html
    assert OLD_AGENDA not in html
    assert "No pre-session check-in sent for this session." in html
    # Both partners' alliance, each a chart with its table, side by side.
    assert "Pat Partner: after-session ratings" in html
    assert "Quinn Partner: after-session ratings" in html
    assert html.count('<img src="data:image/svg+xml') >= 3
    # The dip in bond two sessions ago is an open signal, with its next step and the acknowledge form.
    open_signals = Signal.objects.filter(case=world.couple_case, status=SignalStatus.NEW)
    assert open_signals.exists()
    assert "A next step:" in html
    assert reverse("workspace:case_signals", kwargs={"case_id": world.couple_case.public_id}) in html
    # The plan: two goals waiting for both partners' answers; one step done since last session, one open.
    assert "Fictional: argue less about money." in html
    assert "has not answered yet" in html
    assert reverse("workspace:case_plan", kwargs={"case_id": world.couple_case.public_id}) in html
    done_section = html.split("Done since the previous session")[1].split("Still open")[0]
    assert "Fictional: write down one expense each." in done_section
    assert "Fictional: a ten-minute talk on Sunday." in html.split("Still open")[1]


def test_reading_the_briefing_is_recorded_without_its_words(world: World, client_as):
    _past, upcoming = _couple(world)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    client_as("therapist_a").get(_url(upcoming))
    events = AuditEvent.objects.filter(id__gt=mark, action="view")
    briefing = events.filter(object_type="insights.briefing")
    assert sorted(str(e.client_id) for e in briefing) == sorted([str(world.partner_a.public_id), str(world.partner_b.public_id)])
    assert {str(e.object_id) for e in briefing} == {str(upcoming.public_id)}
    # Quinn's pre-session answers were read: recorded against Quinn alone.
    answers = events.filter(object_type="measures.administration")
    assert [str(e.client_id) for e in answers] == [str(world.partner_b.public_id)]
    for event in events:
        assert QUINN_AGENDA not in str(event.detail)


def test_an_individual_briefing_shows_reliable_change_on_the_outcome_chart(world: World, client_as):
    _past, upcoming = course(world.individual_case, 5)
    signals_detect(world.individual_case, now=timezone.now())
    html = client_as("therapist_a").get(_url(upcoming)).content.decode()
    assert "PHQ-9" in html
    # 18 down to 10 over five sessions: beyond the PHQ-9's 6-point threshold.
    assert "reliable improvement" in html
    assert "This is the first session" not in html
    assert "No open signals." not in html  # the bond dip two sessions ago


def test_acknowledging_from_the_briefing_goes_through_the_signals_page(world: World, client_as):
    _past, upcoming = _couple(world)
    signal = Signal.objects.filter(case=world.couple_case, status=SignalStatus.NEW).first()
    browser = client_as("therapist_a")
    response = browser.post(
        reverse("workspace:case_signals", kwargs={"case_id": world.couple_case.public_id}),
        {"form": "acknowledge", "signal": str(signal.public_id)},
    )
    assert response.status_code == 303
    assert Signal.objects.get(pk=signal.pk).status == SignalStatus.ACKNOWLEDGED
    assert "Acknowledged by Theo Treating" in browser.get(_url(upcoming)).content.decode()


def test_a_consultation_without_a_case_has_no_briefing(world: World, client_as):
    consultation = session(world.therapist_b, None, timezone.now() + timedelta(days=2), kind=ServiceKind.CONSULTATION)
    assert client_as("therapist_b").get(_url(consultation)).status_code == 404


def test_someone_elses_session_is_not_found_and_other_roles_are_turned_away(world: World, client_as):
    _past, upcoming = course(world.individual_case, 1)
    assert client_as("therapist_b").get(_url(upcoming)).status_code == 404
    for persona in ("admin", "supervisor", "client", "partner_a"):
        assert client_as(persona).get(_url(upcoming)).status_code == 403
    assert not AuditEvent.objects.filter(object_type="insights.briefing").exists()


def _queries_for(world: World, client_as, django_assert_num_queries, sessions: int, expected: dict[str, int]) -> None:
    _past, upcoming = _couple(world, sessions)
    browser = client_as("therapist_a")
    browser.get(reverse("workspace:home"))  # the first request of a session writes the session itself
    with django_assert_num_queries(expected["first"]):
        assert browser.get(_url(upcoming)).status_code == 200
    with django_assert_num_queries(expected["again"]):
        assert browser.get(_url(upcoming)).status_code == 200


# First opening. The request's own (session, user, MFA: 8), the version (one query over every row
# the page and its checks read), the appointment with its case and therapist, the case's members,
# the previous session, the scores, the alliance check-ins, the open signals, the steps, this
# session's check-ins, the plan with its two waiting items (2 + 3), the service, and the reads
# recorded: Quinn's answers and one event per partner, appended together (the chain's end and one
# INSERT, in a savepoint: 4). Opened again with nothing changed: the request's own, the version and
# the 4 of the recorded reads. PostgreSQL also takes the audit chain's advisory lock: 1 more each time.
BRIEFING_QUERIES = {"sqlite": {"first": 27, "again": 13}, "postgresql": {"first": 28, "again": 14}}


@pytest.mark.parametrize("sessions", [2, 9])
def test_the_briefing_costs_the_same_queries_for_a_short_and_a_long_history(world: World, client_as, django_assert_num_queries, sessions):
    _queries_for(world, client_as, django_assert_num_queries, sessions, BRIEFING_QUERIES[connection.vendor])
    assert Signal.objects.filter(case=world.couple_case).count() >= 1


def test_todays_sessions_carry_a_briefing_link_and_badges(world: World, client_as):
    zone = ZoneInfo(world.therapist_a.time_zone)
    today = timezone.now().astimezone(zone).date()
    couple = session(world.therapist_a, world.couple_case, datetime.combine(today, time(12), tzinfo=zone))
    cora = session(world.therapist_a, world.individual_case, datetime.combine(today, time(14), tzinfo=zone))
    consultation = session(world.therapist_a, None, datetime.combine(today, time(16), tzinfo=zone), kind=ServiceKind.CONSULTATION)
    # Covering a session of a case Bea treats: no briefing for Theo (it would be 404) and no badges.
    bea_client = client_create(actor=None, practice=world.practice, full_name="Bo Bystander Client", email="bo@mail.example")
    bea_case = case_open(actor=world.user("therapist_b"), therapist=world.therapist_b, clients=[bea_client], status="active")
    covered = session(world.therapist_a, bea_case, datetime.combine(today, time(18), tzinfo=zone))
    case = world.couple_case
    sent(world.partner_a, case, "alliance", {"goals": 9, "tasks": 9, "bond": 9}, when(3, 3, 18), timing=Timing.AFTER)
    sent(world.partner_b, case, "alliance", {"goals": 6, "tasks": 5, "bond": 3}, when(3, 3, 18), timing=Timing.AFTER)
    detected = signals_detect(case, now=when(3, 4))
    for_session(sent(world.partner_b, case, "presession", {"week": 4, "agenda": QUINN_AGENDA}, timezone.now()), couple)
    unanswered = for_session(sent(world.partner_a, case, "presession", {"week": 4}, timezone.now()), couple)
    # Pat's check-in for this session ran out unanswered.
    Administration.objects.filter(pk=unanswered.pk).update(status=AdministrationStatus.EXPIRED, total=None)
    html = client_as("therapist_a").get(reverse("workspace:home")).content.decode()
    assert html.count("Briefing<span") == 2
    assert _url(couple) in html
    assert _url(cora) in html
    assert _url(consultation) not in html
    assert _url(covered) not in html
    assert client_as("therapist_a").get(_url(covered)).status_code == 404
    assert f"{len(detected)} open signals" in html
    assert "Check-ins 1 of 2 sent, 1 missed" in html
    assert "No check-ins asked" in html
    assert QUINN_AGENDA not in html
    detail = client_as("therapist_a").get(reverse("workspace:appointment_detail", kwargs={"appointment_id": couple.public_id}))
    assert _url(couple) in detail.content.decode()


def test_the_home_page_costs_the_same_with_one_or_three_sessions_today(world: World, client_as):
    zone = ZoneInfo(world.therapist_a.time_zone)
    today = timezone.now().astimezone(zone).date()
    browser = client_as("therapist_a")
    browser.get(reverse("workspace:home"))

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(reverse("workspace:home")).status_code == 200
        return len(queries)

    session(world.therapist_a, world.couple_case, datetime.combine(today, time(10), tzinfo=zone))
    one = count()
    session(world.therapist_a, world.individual_case, datetime.combine(today, time(12), tzinfo=zone))
    session(world.therapist_a, world.couple_case, datetime.combine(today, time(14), tzinfo=zone))
    sent(world.client, world.individual_case, "alliance", {"goals": 9, "tasks": 9, "bond": 1}, when(3, 3, 18), timing=Timing.AFTER)
    signals_detect(world.individual_case, now=when(3, 4))
    assert count() == one
