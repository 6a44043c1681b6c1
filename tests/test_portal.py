"""The client portal: upcoming sessions, things to do, and who opened my record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.audit.models import Action, AuditEvent
from rapport.audit.services import audit_record
from rapport.clients.intake import intake_save
from rapport.clients.record_access import describe
from rapport.clients.selectors import case_read_for_user
from rapport.clients.services import client_create
from rapport.core import todo
from rapport.measures.services import answers_save
from rapport.practice.models import Service, ServiceKind
from rapport.scheduling.models import Participant
from rapport.scheduling.selectors import sessions_upcoming
from rapport.scheduling.services import appointment_cancel
from tests.answering import open_checkin
from tests.sessions import book

HOME = reverse("portal:home")
ACCESS = reverse("portal:record_access")


def _token(appointment, client) -> str:
    return Participant.objects.get(appointment=appointment, client=client).token


def _page(browser, url: str = HOME) -> str:
    response = browser.get(url)
    assert response.status_code == 200
    return response.content.decode()


# --- Upcoming sessions ------------------------------------------------------------------------------


def test_client_sees_their_session_in_their_zone_with_links_to_their_own_manage_pages(world, client_as):
    appointment = book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    html = _page(client_as("client"))
    token = _token(appointment, world.client)
    assert "Theo Treating" in html
    assert appointment.service.name in html
    # Booked at 10:00 Toronto; the persona's zone is the practice's (Toronto) unless set otherwise.
    assert f"{appointment.start.astimezone(ZoneInfo(world.client.time_zone)):%H:%M}" in html
    assert reverse("site:booking_reschedule", kwargs={"token": token}) in html
    assert reverse("site:booking_cancel", kwargs={"token": token}) in html
    assert reverse("site:booking_manage", kwargs={"token": token}) in html


def test_both_partners_see_the_joint_session_each_with_only_their_own_link(world, client_as):
    appointment = book(world, world.couple_case, ServiceKind.COUPLE, hour=13)
    token_a, token_b = _token(appointment, world.partner_a), _token(appointment, world.partner_b)
    html_a, html_b = _page(client_as("partner_a")), _page(client_as("partner_b"))
    assert token_a in html_a
    assert token_b not in html_a
    assert token_b in html_b
    assert token_a not in html_b
    assert appointment.service.name in html_a
    assert appointment.service.name in html_b


def test_a_client_never_sees_sessions_they_are_not_booked_into(world, client_as):
    joint = book(world, world.couple_case, ServiceKind.COUPLE, hour=13)
    html = _page(client_as("client"))
    assert "You have no sessions booked." in html
    for participant in joint.participants.all():
        assert participant.token not in html
    assert "You have no sessions booked." in _page(client_as("other_practice_client"))


def test_cancelled_and_past_sessions_are_not_upcoming(world, client_as):
    appointment = book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    assert [s.participant.appointment for s in sessions_upcoming(world.client, now=appointment.start - timedelta(days=1))] == [appointment]
    assert sessions_upcoming(world.client, now=appointment.start) == []
    appointment_cancel(actor=world.user("therapist_a"), appointment=appointment, by_client=False)
    assert "You have no sessions booked." in _page(client_as("client"))


def test_inside_a_strict_cancellation_window_the_page_says_why_and_offers_no_move(world):
    world.practice.late_cancellation_allowed = False
    world.practice.save(update_fields=["late_cancellation_allowed"])
    appointment = book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    (session,) = sessions_upcoming(world.client, now=appointment.start - timedelta(hours=1))
    assert not session.rule.allowed
    assert "contact the practice" in session.rule.refusal


@override_settings(RAPPORT_VIDEO_BASE_URL="https://video.example")
def test_an_online_session_shows_its_video_link(world, client_as):
    Service.objects.filter(practice=world.practice, kind=ServiceKind.INDIVIDUAL).update(is_online=True)
    appointment = book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    assert f'href="https://video.example/{appointment.video_room}"' in _page(client_as("client"))


# --- Things to do -----------------------------------------------------------------------------------


@pytest.fixture
def todo_provider():
    def provider(client):
        due = datetime(2030, 1, 2, 12, tzinfo=UTC)
        return [todo.TodoItem(label=f"Check-in for {client.full_name}", url="/somewhere/", due=due), todo.TodoItem("Undated", "/x/")]

    todo.register(provider)
    yield provider
    todo.unregister(provider)


def test_things_to_do_come_from_the_registered_providers(world, client_as, todo_provider):
    html = _page(client_as("client"))
    assert "Check-in for Cora Client" in html
    assert html.index("Check-in for Cora Client") < html.index("Undated")
    assert "Nothing to do right now." not in html


def test_with_nothing_due_there_is_nothing_to_do(world, client_as):
    # No consent document to sign in this world; the intake form is the one thing left to do.
    assert "Tell us about yourself (intake form)" in _page(client_as("client"))
    intake_save(actor=world.user("client"), client=world.client, what_brings_you="Fictional: a few words.")
    assert "Nothing to do right now." in _page(client_as("client"))


def test_registering_twice_adds_a_provider_once(todo_provider):
    todo.register(todo_provider)
    assert len([p for p in todo._providers if p is todo_provider]) == 1


# --- Who opened my record ---------------------------------------------------------------------------


def _rows(response):
    return response.context["rows"]


def test_the_list_shows_the_therapist_who_opened_the_case_and_not_the_clients_own_reads(world, client_as):
    browser = client_as("client")
    browser.get(reverse("portal:case_detail", kwargs={"case_id": world.individual_case.public_id}))
    case_read_for_user(world.user("therapist_a"), world.individual_case.public_id)
    response = browser.get(ACCESS)
    html = response.content.decode()
    first = _rows(response)[0]
    assert (first.who, first.role, first.action, first.kind) == ("Theo Treating", "Therapist", "opened", "your therapy record")
    assert "Theo Treating" in html
    assert "(Therapist)" in html
    assert all(row.who != "Cora Client" for row in _rows(response))


def test_events_without_an_actor_are_worded_for_what_they_were(world, client_as):
    appointment = book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    # A cancellation through the emailed manage link has no signed-in actor.
    appointment_cancel(actor=None, appointment=appointment, by_client=True)
    rows = _rows(client_as("client").get(ACCESS))
    assert (rows[0].who, rows[0].action, rows[0].kind, rows[0].changes) == (
        "Someone using a booking link",
        "changed",
        "an appointment",
        ["cancelled"],
    )
    # The persona's client record was created with no one signed in.
    assert any(row.who == "The system" and row.kind == "your client details" for row in rows)


def test_a_check_in_answered_through_its_link_is_worded_as_the_link_not_as_the_system(world, client_as):
    administration, token = open_checkin(world)
    answers_save(administration=administration, answers={"phq9_1": 1}, final=False, token=token)
    rows = _rows(client_as("client").get(ACCESS))
    assert (rows[0].who, rows[0].action, rows[0].kind, rows[0].changes) == (
        "Someone using a check-in link",
        "changed",
        "a check-in",
        ["answers"],
    )


def test_details_show_only_known_field_names_in_plain_words(world, client_as):
    audit_record(
        actor=world.user("therapist_a"),
        action=Action.UPDATE,
        object_type="notes.somethingnew",
        client_id=world.client.public_id,
        detail={"fields": ["summary", "hidden_field_name"], "value": "FICTIONAL-CLINICAL-TEXT"},
    )
    response = client_as("client").get(ACCESS)
    html = response.content.decode()
    assert _rows(response)[0].kind == "another part of your record"
    assert "therapist&#x27;s summary" in html or "therapist's summary" in html
    assert "hidden_field_name" not in html
    assert "FICTIONAL-CLINICAL-TEXT" not in html
    assert "notes.somethingnew" not in html


def test_a_partner_never_sees_events_about_the_other_partner(world, client_as):
    audit_record(
        actor=world.user("therapist_a"),
        action=Action.VIEW,
        object_type="clients.client",
        object_id=world.partner_b.public_id,
        client_id=world.partner_b.public_id,
    )
    listed = client_as("partner_a").get(ACCESS).context["page"].paginator.object_list
    assert {str(event.client_id) for event in listed} == {str(world.partner_a.public_id)}
    assert AuditEvent.objects.filter(client_id=world.partner_b.public_id, object_type="clients.client", action="view").exists()


def test_a_joint_case_read_appears_for_both_partners(world, client_as):
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    case_read_for_user(world.user("therapist_a"), world.couple_case.public_id)
    for persona in ("partner_a", "partner_b"):
        newest = client_as(persona).get(ACCESS).context["page"][0]
        assert newest.id > before
        assert newest.action == Action.VIEW
        assert newest.object_type == "clients.case"


def test_a_partner_reading_the_joint_case_is_not_listed_for_the_other_partner(world, client_as):
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    case_read_for_user(world.user("partner_b"), world.couple_case.public_id)
    reads = AuditEvent.objects.filter(id__gt=before, object_type="clients.case", action=Action.VIEW)
    # The read is in the trail, against the reader's own record only.
    assert [str(event.client_id) for event in reads] == [str(world.partner_b.public_id)]
    listed = client_as("partner_a").get(ACCESS).context["page"].paginator.object_list
    assert not listed.filter(id__gt=before, actor=world.user("partner_b")).exists()


def test_another_practices_client_sees_only_their_own_record(world, client_as):
    case_read_for_user(world.user("therapist_a"), world.individual_case.public_id)
    response = client_as("other_practice_client").get(ACCESS)
    assert {str(e.client_id) for e in response.context["page"]} <= {str(world.other_client.public_id)}
    assert "Theo Treating" not in response.content.decode()


def test_times_are_in_the_clients_zone():
    event = AuditEvent(occurred_at=datetime(2025, 7, 1, 12, 0, tzinfo=UTC), action=Action.VIEW, object_type="clients.case")
    row = describe(event, ZoneInfo("Asia/Tokyo"))
    assert (row.when.hour, row.when.utcoffset()) == (21, timedelta(hours=9))


def test_the_page_renders_times_in_the_clients_zone(world, client_as):
    world.client.time_zone = "Asia/Tokyo"
    world.client.save(update_fields=["time_zone"])
    case_read_for_user(world.user("therapist_a"), world.individual_case.public_id)
    html = _page(client_as("client"), ACCESS)
    assert "JST" in html
    assert "Asia/Tokyo" in html


def test_the_list_is_paginated_newest_first(world, client_as):
    for _ in range(30):
        case_read_for_user(world.user("therapist_a"), world.individual_case.public_id)
    browser = client_as("client")
    total = AuditEvent.objects.filter(client_id=world.client.public_id).exclude(actor=world.user("client")).count()
    first = browser.get(ACCESS).context["page"]
    ids = [e.pk for e in first]
    assert len(ids) == 25
    assert ids == sorted(ids, reverse=True)
    second = browser.get(ACCESS + "?page=2").context["page"]
    assert len(second) == total - 25
    assert max(e.pk for e in second) < min(ids)
    assert browser.get(ACCESS + "?page=99").context["page"].number == first.paginator.num_pages
    assert browser.get(ACCESS + "?page=nonsense").context["page"].number == 1


def _queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


def test_portal_pages_cost_the_same_queries_whatever_the_data(world, client_as):
    browser = client_as("partner_a")
    browser.get(HOME)
    book(world, world.couple_case, ServiceKind.COUPLE, hour=13)
    control = {url: _queries(browser, url) for url in (HOME, ACCESS)}
    for hour in (9, 11, 15):
        book(world, world.couple_case, ServiceKind.COUPLE, hour=hour)
    for n in range(3):
        client_create(actor=None, practice=world.practice, full_name=f"Extra {n}", email=f"extra{n}@mail.example")
    for _ in range(20):
        case_read_for_user(world.user("therapist_a"), world.couple_case.public_id)
    for url, before in control.items():
        assert _queries(browser, url) == before, url
        assert before <= 15, f"{url} makes {before} queries"
