"""The public booking flow and the manage-link pages, driven as a visitor without JavaScript would.

The pages' clock is pinned to a Monday morning in Toronto (the practice's zone), so every test
books on the same calendar; the services get the same ``now`` from the views.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.test import Client as Browser
from django.urls import reverse

from rapport.clients.models import Case, Client
from rapport.practice.models import Practice, Service, Therapist
from rapport.scheduling.models import Appointment, AppointmentStatus, Notice, NoticeKind, Participant, WorkingHours
from rapport.scheduling.services import appointment_book, appointment_cancel
from rapport.site import booking_views, ratelimit
from rapport.site.forms import slot_value
from tests.personas import World

TORONTO = ZoneInfo("America/Toronto")
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TORONTO)  # a Monday morning
TUESDAY = date(2026, 11, 24)
WEDNESDAY = date(2026, 11, 25)


def _at(hour: int, minute: int = 0, day: date = TUESDAY, zone: ZoneInfo = TORONTO) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def _service(world: World, kind: str) -> Service:
    return Service.objects.get(practice=world.practice, kind=kind)


def _slot(therapist: Therapist | None, start: datetime) -> str:
    return slot_value(therapist.public_id if therapist else None, start)


def _radio_values(html: str) -> list[str]:
    return re.findall(r'type="radio" name="slot" id="[^"]+" value="([^"]+)"', html)


def _text(response: Any) -> str:
    return unescape(response.content.decode())


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # The rate limits live in the cache, which no database rollback resets.
    cache.clear()


@pytest.fixture
def booking(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """Therapist A works weekdays 9 to 17, therapist B Tuesday to Thursday 13 to 17 (Toronto)."""
    for weekday in range(5):
        WorkingHours.objects.create(therapist=world.therapist_a, weekday=weekday, start=time(9), end=time(17))
    for weekday in (1, 2, 3):
        WorkingHours.objects.create(therapist=world.therapist_b, weekday=weekday, start=time(13), end=time(17))
    monkeypatch.setattr(booking_views, "_now", lambda: NOW)
    return world


def _details_url(service: Service) -> str:
    return reverse("site:book_details", kwargs={"service_id": service.public_id})


def _details(slot: str, tz: str = "America/Toronto", **fields: str) -> dict[str, str]:
    data = {"slot": slot, "tz": tz, "name": "Robin Visitor", "email": "robin@mail.example", "privacy": "on", "website": ""}
    data.update(fields)
    return data


def _book(world: World, kind: str = "individual", *, start: datetime | None = None, browser: Browser | None = None, **fields: str) -> Any:
    """Book through the page; return the response (a 303 to the manage page on success)."""
    service = _service(world, kind)
    data = _details(_slot(world.therapist_a, start or _at(10)), **fields)
    if kind == "couple":
        data.setdefault("partner_name", "Sam Visitor")
        data.setdefault("partner_email", "sam@mail.example")
    return (browser or Browser()).post(_details_url(service), data)


def _token_of(response: Any) -> str:
    assert response.status_code == 303, response.content.decode()[:2000]
    match = re.fullmatch(r"/booking/([^/]+)/", response["Location"])
    assert match, response["Location"]
    return match[1]


# --- Choosing a service and a time -----------------------------------------------------------------


def test_the_home_page_links_each_service_to_its_booking_page(booking: World) -> None:
    html = _text(Browser().get("/"))
    for service in Service.objects.filter(practice=booking.practice):
        assert reverse("site:book_time", kwargs={"service_id": service.public_id}) in html
    assert reverse("site:book") in html


def test_the_service_page_lists_what_can_be_booked(booking: World) -> None:
    response = Browser().get(reverse("site:book"))
    html = _text(response)
    assert response.status_code == 200
    assert html.count("<h1>") == 1
    for name in ("Free 15-minute online consultation", "Individual session", "Couples session"):
        assert name in html


def test_a_service_of_another_practice_is_not_found(booking: World) -> None:
    elsewhere = Service.objects.filter(practice=booking.other_practice).first()
    assert elsewhere is not None
    assert Browser().get(reverse("site:book_time", kwargs={"service_id": elsewhere.public_id})).status_code == 404
    assert Browser().get(_details_url(elsewhere) + f"?slot={_slot(None, _at(10))}").status_code == 404
    response = Browser().post(_details_url(elsewhere), _details(_slot(None, _at(10))))
    assert response.status_code == 404
    assert not Appointment.objects.exists()


def test_free_times_are_grouped_per_day_in_the_practices_zone_by_default(booking: World) -> None:
    individual = _service(booking, "individual")
    url = reverse("site:book_time", kwargs={"service_id": individual.public_id})
    response = Browser().get(url, {"therapist": str(booking.therapist_a.public_id)})
    html = _text(response)
    assert response.status_code == 200
    assert "<legend>Tuesday 24 November</legend>" in html
    values = _radio_values(html)
    # 24 hours' notice from Monday 8:00: the first time is Tuesday 9:00, the last one 16:00 on Monday next.
    assert values[0] == _slot(booking.therapist_a, _at(9))
    assert "<option selected>America/Toronto</option>" in html
    assert len(values) == len(set(values))
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "duplicate ids on the page"


def test_free_times_are_shown_in_the_chosen_zone(booking: World) -> None:
    individual = _service(booking, "individual")
    url = reverse("site:book_time", kwargs={"service_id": individual.public_id})
    html = _text(Browser().get(url, {"therapist": str(booking.therapist_a.public_id), "tz": "Europe/London"}))
    # Tuesday 9:00 in Toronto is 14:00 in London; the value carries the UTC time either way.
    first = re.search(r'value="([^"]+)" required><label for="[^"]+"><time datetime="([^"]+)">([^<]+)</time>', html)
    assert first is not None
    assert first.group(1) == _slot(booking.therapist_a, _at(9))
    assert first.group(3) == "14:00"
    assert first.group(2) == _at(14, zone=LONDON).isoformat()
    assert "shown in Europe/London time" in html
    assert "<option selected>Europe/London</option>" in html


def test_daylight_saving_changes_are_followed_in_each_zone(booking: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # London leaves summer time on 25 October 2026, Toronto on 1 November: for one week the gap is 4 hours, then 5.
    monkeypatch.setattr(booking_views, "_now", lambda: datetime(2026, 10, 26, 8, 0, tzinfo=TORONTO))
    individual = _service(booking, "individual")
    url = reverse("site:book_time", kwargs={"service_id": individual.public_id})
    query = {"therapist": str(booking.therapist_a.public_id), "tz": "Europe/London"}
    before = _text(Browser().get(url, {**query, "week": "2026-10-27"}))
    after = _text(Browser().get(url, {**query, "week": "2026-11-03"}))
    assert f'value="{_slot(booking.therapist_a, _at(9, day=date(2026, 10, 27)))}" required><label for="slot-1-1"><time' in before
    assert ">13:00</time>" in before.split("<legend>Tuesday 27 October</legend>")[1][:400]
    assert ">14:00</time>" in after.split("<legend>Tuesday 3 November</legend>")[1][:400]


def test_first_available_offers_the_times_of_every_bookable_therapist(booking: World) -> None:
    individual = _service(booking, "individual")
    url = reverse("site:book_time", kwargs={"service_id": individual.public_id})
    values = _radio_values(_text(Browser().get(url)))
    assert all(value.startswith("any@") for value in values)
    assert _slot(None, _at(9)) in values


def test_htmx_gets_only_the_slot_region(booking: World) -> None:
    individual = _service(booking, "individual")
    url = reverse("site:book_time", kwargs={"service_id": individual.public_id})
    response = Browser().get(url, {"tz": "Europe/London", "week": "2026-11-30"}, HTTP_HX_REQUEST="true")
    html = _text(response)
    assert response.status_code == 200
    assert "<html" not in html
    assert "<legend>Monday 30 November</legend>" in html
    assert 'name="week" value="2026-11-30"' in html
    assert "HX-Request" in response["Vary"]
    # A history restore asks again with HX-Request set and needs the whole page.
    restored = Browser().get(url, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in _text(restored)


def test_week_navigation_stays_within_today_and_the_horizon(booking: World) -> None:
    individual = _service(booking, "individual")
    url = reverse("site:book_time", kwargs={"service_id": individual.public_id})
    first = _text(Browser().get(url))
    assert "Earlier week" not in first
    assert "week=2026-11-30" in first
    past = _text(Browser().get(url, {"week": "2020-01-01"}))
    assert "<legend>Monday 23 November</legend>" in past
    far = _text(Browser().get(url, {"week": "2030-01-01"}))
    assert "Later week" not in far


def test_a_week_without_free_times_points_to_the_next_free_day(booking: World) -> None:
    from rapport.scheduling.models import AvailabilityOverride, OverrideKind

    for offset in range(7):
        day = TUESDAY + timedelta(days=offset)
        for therapist in (booking.therapist_a, booking.therapist_b):
            AvailabilityOverride.objects.create(therapist=therapist, day=day, kind=OverrideKind.DAY_OFF)
    individual = _service(booking, "individual")
    html = _text(Browser().get(reverse("site:book_time", kwargs={"service_id": individual.public_id})))
    assert "shown in America/Toronto time: none." in html
    assert "The next free time is on Tuesday 1 December." in html


def test_unreadable_filters_fall_back_to_the_defaults_and_say_so(booking: World) -> None:
    individual = _service(booking, "individual")
    url = reverse("site:book_time", kwargs={"service_id": individual.public_id})
    response = Browser().get(url, {"therapist": str(uuid.uuid4()), "tz": "Mars/Olympus_Mons", "week": "soon"})
    html = _text(response)
    assert response.status_code == 200
    assert 'role="alert"' in html
    assert "<option selected>America/Toronto</option>" in html


def test_the_details_page_shows_the_chosen_time_in_the_chosen_zone(booking: World) -> None:
    individual = _service(booking, "individual")
    response = Browser().get(_details_url(individual), {"slot": _slot(booking.therapist_a, _at(10)), "tz": "Europe/London"})
    html = _text(response)
    assert response.status_code == 200
    assert "Tuesday 24 November 2026 at 15:00 (Europe/London time)" in html
    assert "Theo Treating" in html
    honeypot = re.search(r'<input type="text" name="website"[^>]*>', html)
    assert honeypot is not None
    assert 'tabindex="-1"' in honeypot[0]
    assert 'autocomplete="off"' in honeypot[0]
    assert '<label for="id_website">Leave this empty:</label>' in html
    assert html.count("<h1>") == 1


def test_the_details_page_without_a_time_sends_back_to_the_times(booking: World) -> None:
    individual = _service(booking, "individual")
    response = Browser().get(_details_url(individual))
    assert response.status_code == 302
    assert response["Location"] == reverse("site:book_time", kwargs={"service_id": individual.public_id})


# --- Booking ------------------------------------------------------------------------------------------


def test_a_visitor_books_an_individual_session_without_javascript(booking: World) -> None:
    browser = Browser()
    individual = _service(booking, "individual")
    times = _text(browser.get(reverse("site:book_time", kwargs={"service_id": individual.public_id}), {"tz": "Europe/London"}))
    chosen = _radio_values(times)[2]  # Tuesday 9:30 Toronto, 14:30 London
    details = browser.get(_details_url(individual), {"slot": chosen, "tz": "Europe/London"})
    assert "Tuesday 24 November 2026 at 14:30 (Europe/London time)" in _text(details)

    response = browser.post(
        _details_url(individual),
        _details(chosen, tz="Europe/London", phone="+1 416 555 0100", reason="Fictional: feeling stuck at work."),
    )
    token = _token_of(response)
    page = browser.get(response["Location"])
    html = _text(page)

    assert page.status_code == 200
    assert "<h1>You're booked</h1>" in html
    assert 'role="status"' in html
    assert "Tuesday 24 November 2026 at 14:30</time> to 15:20 (Europe/London time)" in html
    assert f"/booking/{token}/" in html
    appointment = Appointment.objects.get()
    assert (appointment.start, appointment.status, appointment.service) == (_at(9, 30), AppointmentStatus.BOOKED, individual)
    assert appointment.case is not None
    assert appointment.privacy_accepted_at is not None
    assert appointment.contact_phone == "+1 416 555 0100"
    participant = Participant.objects.get(appointment=appointment)
    assert participant.time_zone == "Europe/London"
    assert Notice.objects.filter(appointment=appointment, kind=NoticeKind.CONFIRMATION).count() == 2  # the booker and the therapist
    # The confirmation is shown once: on the next visit the page is the plain manage page.
    again = _text(browser.get(response["Location"]))
    assert "You're booked" not in again
    assert "<h1>Your booking</h1>" in again


def test_first_available_books_whoever_has_the_time(booking: World) -> None:
    appointment_book(
        actor=None,
        therapist=booking.therapist_a,
        service=_service(booking, "individual"),
        start=_at(14),
        case=booking.individual_case,
        now=NOW,
    )
    response = Browser().post(_details_url(_service(booking, "individual")), _details(_slot(None, _at(14))))
    _token_of(response)
    booked = Appointment.objects.exclude(case=booking.individual_case).get()
    assert booked.therapist == booking.therapist_b


def test_a_couple_books_together_and_each_partner_gets_their_own_link(booking: World) -> None:
    response = _book(booking, "couple", start=_at(13))
    token = _token_of(response)
    appointment = Appointment.objects.get()
    participants = list(appointment.participants.order_by("id"))
    assert {p.email for p in participants} == {"robin@mail.example", "sam@mail.example"}
    assert appointment.case is not None
    assert appointment.case.kind == "couple"
    assert len({p.token for p in participants}) == 2
    partner = next(p for p in participants if p.email == "sam@mail.example")
    assert partner.token != token
    partner_page = Browser().get(reverse("site:booking_manage", kwargs={"token": partner.token}))
    assert partner_page.status_code == 200
    assert "Couples session" in _text(partner_page)


def test_a_couples_booking_needs_both_partners(booking: World) -> None:
    couple = _service(booking, "couple")
    response = Browser().post(_details_url(couple), _details(_slot(booking.therapist_a, _at(13))))
    html = _text(response)
    assert response.status_code == 400
    assert html.count("This field is required.") == 2
    same = Browser().post(
        _details_url(couple),
        _details(_slot(booking.therapist_a, _at(13)), partner_name="Sam", partner_email="ROBIN@mail.example"),
    )
    assert same.status_code == 400
    assert "Each partner needs their own email address" in _text(same)
    assert not Appointment.objects.exists()
    assert not Client.objects.filter(email__in=["robin@mail.example", "sam@mail.example"]).exists()


@pytest.mark.parametrize(
    ("label", "slot"),
    [
        ("garbage", "tuesday at ten"),
        ("empty", ""),
        ("far too long", "any@" + "2026-11-24T15:00Z" * 10),
        ("an impossible date", "any@2026-02-30T15:00Z"),
        ("a naive time", "any@2026-11-24T15:00"),
        ("an unknown therapist", "6f1c2a0e-1d4b-4c8e-9a51-3f0b7d2e9c44@2026-11-24T15:00Z"),
    ],
    ids=lambda value: value if " " in value or not value else None,
)
def test_an_unreadable_slot_is_refused_and_the_details_are_kept(booking: World, label: str, slot: str) -> None:
    response = Browser().post(_details_url(_service(booking, "individual")), _details(slot, reason="Fictional reason kept."))
    html = _text(response)
    assert response.status_code == 400, label
    assert "This time could not be read" in html or "Please choose a time." in html
    assert 'value="Robin Visitor"' in html
    assert "Fictional reason kept." in html
    # Other free times are offered right there, so nothing typed is lost.
    assert _radio_values(html)
    assert not Appointment.objects.exists()


def test_another_practices_therapist_cannot_be_booked_here(booking: World) -> None:
    other = Therapist.objects.get(practice=booking.other_practice)
    WorkingHours.objects.create(therapist=other, weekday=1, start=time(9), end=time(17))
    response = Browser().post(_details_url(_service(booking, "individual")), _details(_slot(other, _at(10))))
    assert response.status_code == 400
    assert "This time could not be read" in _text(response)
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("label", "start", "message"),
    [
        ("outside working hours", _at(7), "This time was just taken"),
        ("off the grid of start times", _at(10, 7), "This time was just taken"),
        ("inside the notice period", _at(9, day=date(2026, 11, 23)), "This time was just taken"),
        ("in the past", NOW - timedelta(days=2), "This time has already passed"),
        ("beyond the booking horizon", _at(10, day=date(2027, 3, 2)), "This time was just taken"),
    ],
)
def test_a_time_that_was_never_offered_is_refused(booking: World, label: str, start: datetime, message: str) -> None:
    response = Browser().post(_details_url(_service(booking, "individual")), _details(_slot(booking.therapist_a, start)))
    html = _text(response)
    assert response.status_code == 409, label
    assert message in html
    assert not Appointment.objects.exists()
    assert not Client.objects.filter(email="robin@mail.example").exists()


def test_a_time_never_offered_is_named_on_the_details_page_before_anything_is_typed(booking: World) -> None:
    individual = _service(booking, "individual")
    late = _text(Browser().get(_details_url(individual), {"slot": _slot(booking.therapist_a, _at(7))}))
    assert "This time is no longer free. Please choose another." in late
    gone = _text(Browser().get(_details_url(individual), {"slot": _slot(booking.therapist_a, NOW - timedelta(hours=1))}))
    assert "This time has already passed." in gone
    garbage = Browser().get(_details_url(individual), {"slot": "x"})
    assert garbage.status_code == 400
    assert "This time could not be read" in _text(garbage)


def test_the_loser_of_a_race_sees_the_nearest_free_times_and_keeps_the_details(booking: World) -> None:
    individual = _service(booking, "individual")
    chosen = _slot(booking.therapist_a, _at(10))
    assert Browser().get(_details_url(individual), {"slot": chosen}).status_code == 200
    # Someone else is quicker.
    appointment_book(actor=None, therapist=booking.therapist_a, service=individual, start=_at(10), case=booking.individual_case, now=NOW)
    response = Browser().post(_details_url(individual), _details(chosen, reason="Fictional: please keep this.", phone="416 555 0100"))
    html = _text(response)
    assert response.status_code == 409
    assert "This time was just taken" in html
    assert 'role="alert"' in html
    offered = _radio_values(html)
    assert len(offered) == booking_views.NEAREST_COUNT
    # The same therapist's next free times: 11:00 is the first start clear of the taken hour and its buffer.
    assert offered[0] == _slot(booking.therapist_a, _at(11))
    assert chosen not in offered
    for kept in ('value="Robin Visitor"', 'value="robin@mail.example"', 'value="416 555 0100"', "Fictional: please keep this."):
        assert kept in html
    assert "no-store" in response["Cache-Control"]
    agreement = re.search(r'<input type="checkbox" name="privacy"[^>]*>', html)
    assert agreement is not None
    assert " checked" in agreement[0]
    assert Appointment.objects.count() == 1
    # Choosing one of the offered times books it.
    retry = Browser().post(_details_url(individual), _details(offered[0]))
    _token_of(retry)
    assert Appointment.objects.count() == 2


def test_the_free_consultation_is_refused_for_a_current_clients_address(booking: World) -> None:
    consultation = _service(booking, "consultation")
    response = Browser().post(_details_url(consultation), _details(_slot(booking.therapist_a, _at(10)), email="cora@mail.example"))
    html = _text(response)
    assert response.status_code == 400
    assert "The free consultation is for people new to the practice" in html
    assert not Appointment.objects.exists()
    # Nothing about the client behind the address is shown.
    assert "Cora" not in html


def test_the_honeypot_must_stay_empty(booking: World) -> None:
    response = _book(booking, website="https://spam.example")
    html = _text(response)
    assert response.status_code == 400
    assert "This field must stay empty" in html
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "N" * 151, "Ensure this value has at most 150 characters"),
        ("name", "   ", "This field is required."),
        ("email", "not-an-address", "Enter a valid email address."),
        ("email", "a" * 250 + "@mail.example", "Ensure this value has at most 254 characters"),
        ("phone", "call me maybe", "Enter a phone number"),
        ("phone", "1" * 41, "Ensure this value has at most 40 characters"),
        ("reason", "r" * 1001, "Ensure this value has at most 1000 characters"),
        ("privacy", "", "Please read and agree to the privacy notice to book."),
        ("tz", "Mars/Olympus_Mons", "Unknown time zone."),
    ],
)
def test_invalid_or_too_long_details_are_refused(booking: World, field: str, value: str, message: str) -> None:
    data = _details(_slot(booking.therapist_a, _at(10)), **{field: value})
    if field == "privacy":
        del data["privacy"]
    response = Browser().post(_details_url(_service(booking, "individual")), data)
    assert response.status_code == 400
    assert message in _text(response)
    assert not Appointment.objects.exists()
    assert not Client.objects.filter(email="robin@mail.example").exists()


def test_the_reason_may_be_exactly_1000_characters(booking: World) -> None:
    _token_of(_book(booking, reason="r" * 1000))
    assert len(Appointment.objects.get().reason) == 1000


def test_booking_posts_are_limited_per_address(booking: World) -> None:
    individual = _service(booking, "individual")
    browser = Browser(REMOTE_ADDR="203.0.113.7")
    for _ in range(ratelimit.BOOKING_POSTS_PER_IP.max_hits):
        assert browser.post(_details_url(individual), {"slot": "x"}).status_code == 400
    response = browser.post(_details_url(individual), _details(_slot(booking.therapist_a, _at(10))))
    assert response.status_code == 429
    assert "Too many attempts" in _text(response)
    assert response["Retry-After"] == "3600"
    assert not Appointment.objects.exists()
    # Another address is not affected.
    _token_of(Browser(REMOTE_ADDR="198.51.100.2").post(_details_url(individual), _details(_slot(booking.therapist_a, _at(10)))))


def test_booking_posts_are_limited_per_email_address(booking: World) -> None:
    consultation = _service(booking, "consultation")
    for n in range(ratelimit.BOOKING_POSTS_PER_EMAIL.max_hits):
        browser = Browser(REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert browser.post(_details_url(consultation), _details(_slot(None, _at(10)), email="cora@mail.example")).status_code == 400
    response = Browser(REMOTE_ADDR="198.51.100.99").post(
        _details_url(consultation), _details(_slot(None, _at(10)), email="Cora@Mail.example")
    )
    assert response.status_code == 429
    assert "for this email address" in _text(response)


def test_manage_posts_are_limited_per_address(booking: World) -> None:
    browser = Browser(REMOTE_ADDR="203.0.113.8")
    url = reverse("site:booking_cancel", kwargs={"token": "not-a-real-token"})
    for _ in range(ratelimit.MANAGE_POSTS_PER_IP.max_hits):
        assert browser.post(url).status_code == 404
    assert browser.post(url).status_code == 429
    token = _token_of(_book(booking))
    assert browser.post(reverse("site:booking_cancel", kwargs={"token": token})).status_code == 429
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_a_limit_counts_atomically_within_its_window() -> None:
    limit = ratelimit.Limit("test", 2, 60)
    assert ratelimit.hit(limit, "a", now=0)
    assert ratelimit.hit(limit, "A ", now=1)
    assert not ratelimit.hit(limit, "a", now=2)
    assert ratelimit.hit(limit, "b", now=2)
    assert ratelimit.hit(limit, "a", now=61)  # the next window


# --- The manage page ---------------------------------------------------------------------------------


def test_the_manage_page_shows_the_booking_in_the_participants_zone(booking: World) -> None:
    token = _token_of(_book(booking, tz="Europe/London"))
    url = reverse("site:booking_manage", kwargs={"token": token})
    response = Browser().get(url)
    html = _text(response)
    assert response.status_code == 200
    assert "Tuesday 24 November 2026 at 15:00</time> to 15:50 (Europe/London time)" in html
    for fact in ("Individual session", "Theo Treating", "50 minutes"):
        assert fact in html
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Robots-Tag"] == "noindex"
    assert reverse("site:booking_cancel", kwargs={"token": token}) in html
    assert reverse("site:booking_reschedule", kwargs={"token": token}) in html
    assert "up to 24 hours before" in html
    other_zone = _text(Browser().get(url, {"tz": "Asia/Tokyo"}))
    assert "Wednesday 25 November 2026 at 00:00</time> to 00:50 (Asia/Tokyo time)" in other_zone
    ignored = _text(Browser().get(url, {"tz": "Nowhere/Special"}))
    assert "(Europe/London time)" in ignored


def test_an_online_booking_shows_the_video_link_to_its_participants(booking: World, settings: Any) -> None:
    settings.RAPPORT_VIDEO_BASE_URL = "https://video.harbour.example"
    token = _token_of(_book(booking, "consultation"))
    appointment = Appointment.objects.get()
    assert appointment.contact_verified_at is None
    html = _text(Browser().get(reverse("site:booking_manage", kwargs={"token": token})))
    assert f"https://video.harbour.example/{appointment.video_room}" in html
    appointment.refresh_from_db()
    # Opening the link proves the address is the booker's.
    assert appointment.contact_verified_at is not None
    appointment_cancel(actor=None, appointment=appointment, by_client=False, now=NOW)
    cancelled = _text(Browser().get(reverse("site:booking_manage", kwargs={"token": token})))
    assert appointment.video_room not in cancelled


def test_an_unknown_or_revoked_link_is_not_found_and_says_nothing_more(booking: World) -> None:
    token = _token_of(_book(booking))
    Participant.objects.filter(appointment__isnull=False).update(revoked_at=NOW)
    for candidate in (token, "bogus-token", "x" * 300):
        for name in ("site:booking_manage", "site:booking_cancel", "site:booking_reschedule"):
            response = Browser().get(reverse(name, kwargs={"token": candidate}))
            html = _text(response)
            assert response.status_code == 404
            assert "This link is not valid" in html
            assert "Theo Treating" not in html
            assert "Individual session" not in html
            # The pages with a POST form cannot use no-referrer: browsers would send "Origin: null".
            assert response["Referrer-Policy"] == ("no-referrer" if name == "site:booking_manage" else "same-origin")
            assert response["Cache-Control"] == "no-store"
            assert response["X-Robots-Tag"] == "noindex"


def test_a_cancelled_booking_shows_its_state_and_no_actions(booking: World) -> None:
    token = _token_of(_book(booking))
    appointment_cancel(actor=None, appointment=Appointment.objects.get(), by_client=False, now=NOW)
    html = _text(Browser().get(reverse("site:booking_manage", kwargs={"token": token})))
    assert "This session was cancelled" in html
    assert reverse("site:booking_cancel", kwargs={"token": token}) not in html
    assert reverse("site:booking_reschedule", kwargs={"token": token}) not in html
    cancel_page = Browser().get(reverse("site:booking_cancel", kwargs={"token": token}))
    assert 'method="post"' not in _text(cancel_page)


def test_a_past_booking_has_taken_place_and_offers_nothing(booking: World, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token_of(_book(booking))
    monkeypatch.setattr(booking_views, "_now", lambda: _at(12))
    html = _text(Browser().get(reverse("site:booking_manage", kwargs={"token": token})))
    assert "This session has taken place." in html
    assert reverse("site:booking_cancel", kwargs={"token": token}) not in html
    response = Browser().post(reverse("site:booking_cancel", kwargs={"token": token}))
    assert response.status_code == 400
    assert "already started" in _text(response)
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_the_manage_page_leaks_nothing_of_the_client_record_or_other_bookings(booking: World) -> None:
    booking.individual_case.summary = "Fictional summary for Cora."
    other = appointment_book(
        actor=None,
        therapist=booking.therapist_b,
        service=_service(booking, "individual"),
        start=_at(15, day=WEDNESDAY),
        case=booking.individual_case,
        reason="Fictional: private reason of another booking.",
        now=NOW,
    )
    # A visitor who types a current client's address books into that client's case, but is not
    # handed the manage link: it goes to that address only. The page after booking says so.
    browser = Browser()
    response = _book(
        booking, browser=browser, email="cora@mail.example", name="Someone Typing", reason="Fictional typed reason.", phone="555 0100"
    )
    assert response.status_code == 303
    assert response["Location"] == reverse("site:book")
    after = _text(browser.get(response["Location"]))
    assert "emailing the confirmation, with the link to change or cancel, to the address you gave" in after
    assert "/booking/" not in after
    assert "Cora Client" not in after
    # And the link in Cora's email shows only the booking itself: no record name, no other
    # session, no reason, no phone.
    booked = Appointment.objects.exclude(pk=other.pk).get()
    token = booked.participants.get().token
    for name in ("site:booking_manage", "site:booking_cancel", "site:booking_reschedule"):
        html = _text(Browser().get(reverse(name, kwargs={"token": token})))
        for secret in (
            "Cora Client",
            "Fictional summary",
            "Bea Bystander",
            "private reason",
            "Fictional typed reason",
            "555 0100",
            str(other.public_id),
        ):
            assert secret not in html, (name, secret)
        assert "Wednesday 25 November" not in html.split('id="slot-region"')[0]


# --- Cancelling ----------------------------------------------------------------------------------------


def test_cancelling_in_good_time_is_not_late(booking: World) -> None:
    browser = Browser()
    token = _token_of(_book(booking, browser=browser))
    url = reverse("site:booking_cancel", kwargs={"token": token})
    page = _text(browser.get(url))
    assert "Cancelling now is in good time" in page
    response = browser.post(url, {"message": "Fictional: something came up."})
    assert response.status_code == 303
    assert response["Location"] == reverse("site:booking_manage", kwargs={"token": token})
    appointment = Appointment.objects.get()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert not appointment.late_cancellation
    therapist_notice = Notice.objects.get(appointment=appointment, kind=NoticeKind.CANCELLATION, participant__isnull=True)
    assert therapist_notice.message == "Fictional: something came up."
    after = _text(browser.get(response["Location"]))
    assert "Your session is cancelled" in after
    assert "This session was cancelled." in after


def test_a_cancellation_inside_the_window_is_recorded_as_late(booking: World, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token_of(_book(booking))
    monkeypatch.setattr(booking_views, "_now", lambda: _at(8))
    url = reverse("site:booking_cancel", kwargs={"token": token})
    assert "This would be a late cancellation." in _text(Browser().get(url))
    assert "recorded as late" in _text(Browser().get(reverse("site:booking_manage", kwargs={"token": token})))
    assert Browser().post(url).status_code == 303
    appointment = Appointment.objects.get()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.late_cancellation
    assert "cancelled, late" in _text(Browser().get(reverse("site:booking_manage", kwargs={"token": token})))


def test_a_practice_that_refuses_late_changes_says_so_and_changes_nothing(booking: World, monkeypatch: pytest.MonkeyPatch) -> None:
    Practice.objects.filter(pk=booking.practice.pk).update(late_cancellation_allowed=False)
    token = _token_of(_book(booking))
    monkeypatch.setattr(booking_views, "_now", lambda: _at(8))
    manage = _text(Browser().get(reverse("site:booking_manage", kwargs={"token": token})))
    assert "does not change or cancel sessions online that late" in manage
    assert reverse("site:booking_cancel", kwargs={"token": token}) not in manage
    response = Browser().post(reverse("site:booking_cancel", kwargs={"token": token}))
    assert response.status_code == 400
    assert "Please contact the practice" in _text(response)
    moved = Browser().post(reverse("site:booking_reschedule", kwargs={"token": token}), {"slot": _slot(booking.therapist_a, _at(14))})
    assert moved.status_code == 400
    appointment = Appointment.objects.get()
    assert (appointment.status, appointment.start, appointment.sequence) == (AppointmentStatus.BOOKED, _at(10), 0)


def test_a_cancellation_message_is_at_most_500_characters(booking: World) -> None:
    token = _token_of(_book(booking))
    response = Browser().post(reverse("site:booking_cancel", kwargs={"token": token}), {"message": "m" * 501})
    assert response.status_code == 400
    assert "at most 500 characters" in _text(response)
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


def test_one_partner_may_cancel_alone_when_the_practice_allows_it(booking: World) -> None:
    _token_of(_book(booking, "couple", start=_at(13)))
    appointment = Appointment.objects.get()
    partner = appointment.participants.get(email="sam@mail.example")
    assert Browser().post(reverse("site:booking_cancel", kwargs={"token": partner.token})).status_code == 303
    told = set(Notice.objects.filter(appointment=appointment, kind=NoticeKind.CANCELLATION).values_list("recipient_email", flat=True))
    assert told == {"robin@mail.example", "sam@mail.example", booking.therapist_a.user.email}


def test_one_partner_alone_is_refused_when_the_practice_wants_both(booking: World) -> None:
    Practice.objects.filter(pk=booking.practice.pk).update(couple_partner_may_change_alone=False)
    token = _token_of(_book(booking, "couple", start=_at(13)))
    manage = _text(Browser().get(reverse("site:booking_manage", kwargs={"token": token})))
    assert "both partners decide together" in manage
    assert reverse("site:booking_cancel", kwargs={"token": token}) not in manage
    for name in ("site:booking_cancel", "site:booking_reschedule"):
        response = Browser().post(reverse(name, kwargs={"token": token}), {"slot": _slot(booking.therapist_a, _at(14))})
        assert response.status_code == 400
        assert "both partners decide together" in _text(response)
    assert Appointment.objects.get().status == AppointmentStatus.BOOKED


# --- Moving --------------------------------------------------------------------------------------------


def test_moving_to_another_free_time(booking: World) -> None:
    browser = Browser()
    token = _token_of(_book(booking, tz="Europe/London", browser=browser))
    url = reverse("site:booking_reschedule", kwargs={"token": token})
    page = _text(browser.get(url))
    assert "shown in Europe/London time" in page
    offered = _radio_values(page)
    new = _slot(booking.therapist_a, _at(11, day=WEDNESDAY))
    assert new in offered
    assert all(value.startswith(f"{booking.therapist_a.public_id}@") for value in offered)
    response = browser.post(url, {"slot": new, "message": "Fictional: Wednesday suits better."})
    assert response.status_code == 303
    appointment = Appointment.objects.get()
    assert (appointment.start, appointment.sequence, appointment.status) == (_at(11, day=WEDNESDAY), 1, AppointmentStatus.BOOKED)
    after = _text(browser.get(response["Location"]))
    assert "Your session is moved to Wednesday 25 November 2026 at 16:00 (Europe/London)" in after
    assert "Wednesday 25 November 2026 at 16:00</time>" in after


def test_the_reschedule_page_navigates_weeks_in_place(booking: World) -> None:
    token = _token_of(_book(booking))
    url = reverse("site:booking_reschedule", kwargs={"token": token})
    fragment = Browser().get(url, {"week": "2026-11-30", "tz": "Asia/Tokyo"}, HTTP_HX_REQUEST="true")
    html = _text(fragment)
    assert "<html" not in html
    assert 'form="slot-filters"' in html
    assert "<legend>Monday 30 November</legend>" in html or "<legend>Tuesday 1 December</legend>" in html
    assert 'name="tz" value="Asia/Tokyo"' in html


def test_moving_refuses_another_therapists_time_and_unreadable_values(booking: World) -> None:
    token = _token_of(_book(booking))
    url = reverse("site:booking_reschedule", kwargs={"token": token})
    for slot in (_slot(booking.therapist_b, _at(14)), _slot(None, _at(14)), "garbage", ""):
        response = Browser().post(url, {"slot": slot})
        assert response.status_code == 400, slot
        assert 'role="alert"' in _text(response)
    appointment = Appointment.objects.get()
    assert (appointment.start, appointment.sequence) == (_at(10), 0)


def test_moving_onto_a_time_just_taken_offers_the_nearest_free_times(booking: World) -> None:
    token = _token_of(_book(booking))
    appointment_book(
        actor=None,
        therapist=booking.therapist_a,
        service=_service(booking, "individual"),
        start=_at(14),
        case=booking.individual_case,
        now=NOW,
    )
    response = Browser().post(reverse("site:booking_reschedule", kwargs={"token": token}), {"slot": _slot(booking.therapist_a, _at(14))})
    html = _text(response)
    assert response.status_code == 409
    assert "This time was just taken" in html
    offered = _radio_values(html)
    assert offered[0] == _slot(booking.therapist_a, _at(15))
    assert len(offered) == booking_views.NEAREST_COUNT
    mine = Appointment.objects.get(participants__email="robin@mail.example")
    assert (mine.start, mine.sequence, mine.status) == (_at(10), 0, AppointmentStatus.BOOKED)


# --- Privacy notice ----------------------------------------------------------------------------------


def test_the_privacy_notice_is_the_practices_own_or_a_plain_default(booking: World) -> None:
    default = _text(Browser().get(reverse("site:privacy")))
    assert "A free consultation is not the start of a client record." in default
    Practice.objects.filter(pk=booking.practice.pk).update(privacy_notice="Our own words.\n\n<script>alert(1)</script>")
    own = Browser().get(reverse("site:privacy"))
    html = own.content.decode()
    assert "Our own words." in html
    assert "<script>alert(1)</script>" not in html
    assert "not the start of a client record" not in html


def test_every_booking_page_has_one_heading_and_labelled_controls(booking: World) -> None:
    token = _token_of(_book(booking))
    individual = _service(booking, "individual")
    pages = [
        reverse("site:book"),
        reverse("site:book_time", kwargs={"service_id": individual.public_id}),
        _details_url(individual) + "?slot=" + _slot(booking.therapist_a, _at(11)),
        reverse("site:booking_manage", kwargs={"token": token}),
        reverse("site:booking_cancel", kwargs={"token": token}),
        reverse("site:booking_reschedule", kwargs={"token": token}),
        reverse("site:privacy"),
    ]
    for url in pages:
        html = Browser().get(url).content.decode()
        assert html.count("<h1") == 1, url
        ids = re.findall(r' id="([^"]+)"', html)
        assert len(ids) == len(set(ids)), (url, [i for i in ids if ids.count(i) > 1])
        labelled = set(re.findall(r'<label for="([^"]+)"', html))
        for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in control or 'type="submit"' in control:
                continue
            control_id = re.search(r' id="([^"]+)"', control)
            assert control_id is not None, (url, control)
            assert control_id[1] in labelled, (url, control)


def test_a_booking_and_its_client_records_are_written_together_or_not_at_all(booking: World) -> None:
    cases, clients = Case.objects.count(), Client.objects.count()
    appointment_book(
        actor=None, therapist=booking.therapist_a, service=_service(booking, "couple"), start=_at(13), case=booking.couple_case, now=NOW
    )
    response = _book(booking, "couple", start=_at(13), email="new.one@mail.example", partner_email="new.two@mail.example")
    assert response.status_code == 409
    assert (Case.objects.count(), Client.objects.count()) == (cases, clients)
    assert Appointment.objects.count() == 1
