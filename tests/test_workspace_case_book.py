"""A therapist books the next session of a case from the workspace: what is offered, what is booked, what is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from rapport.clients.models import Case, CaseStatus
from rapport.clients.services import case_set_status
from rapport.practice.models import Service
from rapport.scheduling.models import Appointment, AppointmentStatus, Notice, NoticeKind, Participant, WorkingHours
from rapport.scheduling.services import appointment_book

TORONTO = ZoneInfo("America/Toronto")


def _weekday_ahead(days: int = 3) -> date:
    """The first Monday-to-Friday date in Toronto at least ``days`` from now (past the 24-hour notice)."""
    day = (timezone.now().astimezone(TORONTO) + timedelta(days=days)).date()
    while day.weekday() > 4:
        day += timedelta(days=1)
    return day


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Toronto wall-clock time as the page offers it: an ISO instant in UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=TORONTO).astimezone(UTC)


def _url(case: Case) -> str:
    return reverse("workspace:case_book", kwargs={"case_id": case.public_id})


@pytest.fixture
def hours(world):
    for weekday in range(5):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))
    world.therapist_a.time_zone = "America/Toronto"
    world.therapist_a.save(update_fields=["time_zone"])
    world.day = _weekday_ahead()
    return world


def _offered(response) -> dict[str, str]:
    return {start.astimezone(TORONTO).strftime("%H:%M"): value for value, start in response.context["options"]}


def test_the_case_page_links_to_booking_for_the_treating_therapist(world, client_as):
    page = client_as("therapist_a").get(reverse("workspace:case_detail", kwargs={"case_id": world.individual_case.public_id}))
    assert f'href="{_url(world.individual_case)}"' in page.content.decode()


def test_the_page_opens_on_the_first_day_with_a_free_time(hours, client_as):
    response = client_as("therapist_a").get(_url(hours.individual_case))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "<legend>Free times on" in html
    assert '<label for="id_date">' in html
    first = response.context["day"]
    assert hours.day - timedelta(days=3) <= first <= hours.day
    assert first.weekday() < 5
    offered = _offered(response)
    assert offered
    # The first day can be one where the 24-hour notice has already taken the early times.
    earliest_allowed = timezone.now() + timedelta(hours=24)
    assert all(datetime.fromisoformat(value) >= earliest_allowed for value in offered.values())
    if first > earliest_allowed.astimezone(TORONTO).date():
        assert "09:00" in offered
    assert 'type="radio" name="new_start"' in html


def test_it_books_an_individual_session(hours, client_as):
    browser = client_as("therapist_a")
    start = _at(hours.day, 10)
    response = browser.post(_url(hours.individual_case), {"new_start": start.isoformat(), "date": hours.day.isoformat()})

    booked = Appointment.objects.get(case=hours.individual_case)
    assert response.status_code == 303
    assert response["Location"] == reverse("workspace:appointment_detail", kwargs={"appointment_id": booked.public_id})
    assert (booked.start, booked.status, booked.therapist) == (start, AppointmentStatus.BOOKED, hours.therapist_a)
    assert booked.service.kind == "individual"
    assert [p.email for p in booked.participants.all()] == ["cora@mail.example"]
    notices = Notice.objects.filter(appointment=booked, kind=NoticeKind.CONFIRMATION)
    assert sorted(n.recipient_email for n in notices) == ["cora@mail.example", "therapist.a@harbour.example"]
    page = browser.get(response["Location"])
    assert "The client will get a confirmation email." in page.content.decode()


def test_it_books_a_couples_session_with_both_partners(hours, client_as):
    start = _at(hours.day, 13)
    response = client_as("therapist_a").post(_url(hours.couple_case), {"new_start": start.isoformat()})

    assert response.status_code == 303
    booked = Appointment.objects.get(case=hours.couple_case)
    assert booked.service.kind == "couple"
    participants = list(booked.participants.order_by("id"))
    assert sorted(p.email for p in participants) == ["pat@mail.example", "quinn@mail.example"]
    assert len({p.token_hash for p in participants}) == 2
    for participant in participants:
        assert Notice.objects.filter(appointment=booked, participant=participant, kind=NoticeKind.CONFIRMATION).exists()
    assert Notice.objects.filter(appointment=booked, participant=None, recipient_email="therapist.a@harbour.example").exists()


def test_a_taken_time_is_a_conflict_and_nothing_is_saved(hours, client_as):
    start = _at(hours.day, 10)
    appointment_book(
        actor=None,
        therapist=hours.therapist_a,
        service=Service.objects.get(practice=hours.practice, kind="couple"),
        start=start,
        case=hours.couple_case,
    )
    counts = (Appointment.objects.count(), Participant.objects.count(), Notice.objects.count())

    response = client_as("therapist_a").post(_url(hours.individual_case), {"new_start": start.isoformat()})

    assert response.status_code == 409
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "This time was just taken" in html
    assert "10:00" not in _offered(response)
    assert "14:00" in _offered(response)
    assert (Appointment.objects.count(), Participant.objects.count(), Notice.objects.count()) == counts


# Garbage, a date, a naive time, the right instant with Toronto's offset instead of UTC, a past
# time, a time between two offered starts, and a time outside the therapist's working hours.
@pytest.mark.parametrize("value", ["not-a-time", "", "2030-01-07", "2030-01-07T15:00:00", "toronto-offset", "past", "off-grid", "night"])
def test_a_time_not_from_the_list_is_refused(value, hours, client_as):
    instant = {
        "toronto-offset": datetime.combine(hours.day, time(10), tzinfo=TORONTO).isoformat(),
        "past": _at(hours.day - timedelta(days=14), 10).isoformat(),
        "off-grid": _at(hours.day, 10, 7).isoformat(),
        "night": _at(hours.day, 3).isoformat(),
    }.get(value, value)

    response = client_as("therapist_a").post(_url(hours.individual_case), {"new_start": instant})

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert response.context["form"].errors
    assert not Appointment.objects.exists()
    assert not Notice.objects.exists()


def test_another_therapist_gets_404(hours, client_as):
    browser = client_as("therapist_b")
    assert browser.get(_url(hours.individual_case)).status_code == 404
    assert browser.post(_url(hours.individual_case), {"new_start": _at(hours.day, 10).isoformat()}).status_code == 404
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("persona", ["admin", "supervisor"])
def test_staff_without_clinical_access_get_403(persona, hours, client_as):
    browser = client_as(persona)
    assert browser.get(_url(hours.individual_case)).status_code == 403
    assert browser.post(_url(hours.individual_case), {"new_start": _at(hours.day, 10).isoformat()}).status_code == 403
    assert not Appointment.objects.exists()


def test_a_closed_case_cannot_be_booked(hours, client_as):
    case_set_status(actor=hours.users["therapist_a"], case=hours.individual_case, status=CaseStatus.CLOSED)
    browser = client_as("therapist_a")
    detail = browser.get(reverse("workspace:case_detail", kwargs={"case_id": hours.individual_case.public_id}))
    assert _url(hours.individual_case) not in detail.content.decode()

    response = browser.post(_url(hours.individual_case), {"new_start": _at(hours.day, 10).isoformat()})

    assert response.status_code == 400
    assert "This case is closed" in response.content.decode()
    assert not Appointment.objects.exists()


def test_htmx_gets_only_the_free_times_of_the_day(hours, client_as):
    response = client_as("therapist_a").get(_url(hours.individual_case), {"date": hours.day.isoformat()}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="move-times">')
    assert f'name="date" value="{hours.day.isoformat()}"' in html
