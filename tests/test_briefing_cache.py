"""The briefing's page cache: every change to what the page shows, or to who may open it, reaches
the next opening, every opening is recorded, and each browser gets its own form token.

The page body is kept per version of the data (rapport.insights.briefing.briefing_version), so each
test opens the briefing once to fill the cache, changes one thing in the way the product changes it
(a service, ``save()``, or ``QuerySet.update()``), and opens it again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.audit.models import AuditEvent
from rapport.insights import briefing
from rapport.insights.briefing import briefing_version
from rapport.insights.models import Signal, SignalStatus
from rapport.insights.services import signal_acknowledge
from rapport.measures.models import Administration, AdministrationStatus, Timing
from rapport.plans.models import ActionStep, ItemRevision
from rapport.plans.services import action_step_complete, plan_agree_item
from rapport.scheduling.models import Appointment, AppointmentStatus
from rapport.workspace import briefing_views
from tests.briefings import for_session
from tests.personas import World
from tests.results import sent
from tests.test_briefing import QUINN_AGENDA, _couple, _url

pytestmark = pytest.mark.django_db


def _open(browser: Client, appointment: Appointment) -> str:
    response = browser.get(_url(appointment))
    assert response.status_code == 200
    return response.content.decode()


def _new_agenda(world: World, upcoming: Appointment) -> str:
    words = "Fictional: Pat wants to talk about the holidays."
    for_session(sent(world.partner_a, world.couple_case, "presession", {"week": 5, "agenda": words}, timezone.now()), upcoming)
    return words


def _acknowledged(world: World, upcoming: Appointment) -> str:
    therapist = world.user("therapist_a")
    signal = Signal.objects.filter(case=world.couple_case, status=SignalStatus.NEW).first()
    assert signal is not None
    signal_acknowledge(actor=therapist, signal=signal)
    return f"Acknowledged by {therapist.full_name}"


def _step_done(world: World, upcoming: Appointment) -> str:
    step = ActionStep.objects.get(item__plan__case=world.couple_case, done_at__isnull=True)
    action_step_complete(actor=world.user("partner_b"), step=step)
    return 'Fictional: a ten-minute talk on Sunday. <span class="meta">(both, done'


def _both_agree(world: World, upcoming: Appointment) -> str:
    for revision in ItemRevision.objects.filter(item__plan__case=world.couple_case):
        for persona in ("partner_a", "partner_b"):
            plan_agree_item(actor=world.user(persona), revision=revision, choice="agree")
    return "Every current item is agreed."


def _previous_cancelled(world: World, upcoming: Appointment) -> str:
    # A QuerySet.update(), as the diary's own status changes are: updated_at is stamped all the same.
    previous = Appointment.objects.filter(case=world.couple_case, start__lt=upcoming.start).order_by("-start").first()
    assert previous is not None
    Appointment.objects.filter(pk=previous.pk).update(status=AppointmentStatus.CANCELLED)
    earlier = Appointment.objects.filter(case=world.couple_case, start__lt=previous.start).order_by("-start").first()
    assert earlier is not None
    day = earlier.start.astimezone(ZoneInfo(world.therapist_a.time_zone or world.practice.time_zone))
    return f"The previous session was on {day.day} {day:%B %Y}."


def _checkin_cancelled(world: World, upcoming: Appointment) -> str:
    quinn = Administration.objects.get(appointment=upcoming, client=world.partner_b, timing=Timing.BEFORE)
    Administration.objects.filter(pk=quinn.pk).update(status=AdministrationStatus.CANCELLED)
    return GONE + QUINN_AGENDA


def _saved(row_of: Callable[[World, Appointment], Any], field: str, value: str, mark: str = "") -> Callable[[World, Appointment], str]:
    """A change that sets one field of one row and saves it; its mark is the value unless given."""

    def change(world: World, upcoming: Appointment) -> str:
        row = row_of(world, upcoming)
        setattr(row, field, value)
        row.save()
        return mark or value

    return change


# A change whose mark is a text that must leave the page, rather than appear on it.
GONE = "gone: "

CHANGES: dict[str, Callable[[World, Appointment], str]] = {
    "a client sends a pre-session check-in": _new_agenda,
    "the therapist acknowledges a signal": _acknowledged,
    "a client's name is corrected": _saved(lambda world, _: world.partner_b, "full_name", "Quinn Renamed"),
    "a client checks off a step": _step_done,
    "both partners agree to the plan": _both_agree,
    "the previous session is cancelled (QuerySet.update)": _previous_cancelled,
    "a check-in is cancelled (QuerySet.update)": _checkin_cancelled,
    "the service is renamed": _saved(lambda _, upcoming: upcoming.service, "name", "Couples session (renamed)"),
    "the therapist moves to another time zone": _saved(
        lambda world, _: world.therapist_a, "time_zone", "Pacific/Kiritimati", mark="(Pacific/Kiritimati)"
    ),
    "the practice is renamed": _saved(
        lambda world, _: world.practice, "name", "Fictional Renamed Practice", mark="Fictional Renamed Practice · Workspace"
    ),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_every_change_to_what_the_page_shows_reaches_the_next_opening(world: World, client_as, change: str):
    _past, upcoming = _couple(world)
    browser = client_as("therapist_a")
    before = _open(browser, upcoming)
    version = briefing_version(upcoming.public_id)
    expected = CHANGES[change](world, upcoming)
    assert briefing_version(upcoming.public_id) != version
    after = _open(browser, upcoming)
    if expected.startswith(GONE):
        text = expected.removeprefix(GONE)
        assert text in before
        assert text not in after
    else:
        assert expected not in before
        assert expected in after


def test_renaming_the_staff_member_named_on_a_signal_reaches_the_next_opening(world: World, client_as):
    _past, upcoming = _couple(world)
    therapist = world.user("therapist_a")
    browser = client_as("therapist_a")
    assert _acknowledged(world, upcoming) in _open(browser, upcoming)
    therapist.full_name = "Theo Renamed"
    therapist.save(update_fields=["full_name"])
    assert "Acknowledged by Theo Renamed" in _open(browser, upcoming)


def test_opening_it_again_changes_nothing_and_is_recorded_every_time(world: World, client_as):
    _past, upcoming = _couple(world)
    browser = client_as("therapist_a")
    first = _open(browser, upcoming)
    version = briefing_version(upcoming.public_id)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    again = _open(browser, upcoming)
    # Reading writes audit events, never a row the page reads: the version stays.
    assert briefing_version(upcoming.public_id) == version
    # Per response: the form token and the script nonce.
    strip = re.compile(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]+"')
    assert strip.sub("", first) == strip.sub("", again)
    events = AuditEvent.objects.filter(id__gt=mark)
    assert sorted(str(e.client_id) for e in events.filter(object_type="insights.briefing")) == sorted(
        [str(world.partner_a.public_id), str(world.partner_b.public_id)]
    )
    assert [str(e.client_id) for e in events.filter(object_type="measures.administration")] == [str(world.partner_b.public_id)]


def test_a_reopened_page_carries_this_browsers_own_form_token(world: World):
    _past, upcoming = _couple(world)
    therapist = world.user("therapist_a")
    browsers = []
    for _ in range(2):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(therapist, backend="django.contrib.auth.backends.ModelBackend")
        browsers.append(browser)
    _open(browsers[0], upcoming)  # fills the cache
    html = _open(browsers[1], upcoming)
    assert briefing_views._CSRF_PLACEHOLDER not in html
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert token is not None
    signal = Signal.objects.filter(case=world.couple_case, status=SignalStatus.NEW).first()
    assert signal is not None
    response = browsers[1].post(
        reverse("workspace:case_signals", kwargs={"case_id": world.couple_case.public_id}),
        {"csrfmiddlewaretoken": token.group(1), "form": "acknowledge", "signal": str(signal.public_id), "next": _url(upcoming)},
    )
    assert response.status_code == 303
    assert response["Location"].startswith(_url(upcoming))
    assert Signal.objects.get(pk=signal.pk).status == SignalStatus.ACKNOWLEDGED


def test_a_case_moved_to_another_therapist_is_refused_at_the_next_opening(world: World, client_as):
    _past, upcoming = _couple(world)
    assert QUINN_AGENDA in _open(client_as("therapist_a"), upcoming)
    assert client_as("therapist_b").get(_url(upcoming)).status_code == 404
    # The case moves to another therapist: the cached page is not the first therapist's any more.
    case = world.couple_case
    case.primary_therapist = world.therapist_b
    case.save()
    assert client_as("therapist_a").get(_url(upcoming)).status_code == 404


def test_a_session_handed_to_a_colleague_is_refused_at_the_next_opening(world: World, client_as):
    _past, upcoming = _couple(world)
    assert QUINN_AGENDA in _open(client_as("therapist_a"), upcoming)
    # Bea covers this one session: Theo, though still the case's therapist, no longer has it.
    Appointment.objects.filter(pk=upcoming.pk).update(therapist=world.therapist_b)
    assert client_as("therapist_a").get(_url(upcoming)).status_code == 404


def test_the_version_covers_every_table_the_page_and_its_checks_read(world: World, client_as):
    """What a first opening reads, table by table, is what the version watches: a table read here
    but missing there would let a change to it go unseen by a reopened page."""
    _past, upcoming = _couple(world)
    browser = client_as("therapist_a")
    browser.get(reverse("workspace:home"))  # the session's own reads, once, out of the way
    with CaptureQueriesContext(connection) as captured:
        _open(browser, upcoming)
    tables = re.compile(r'(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)
    read = {
        table
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(("SELECT", "WITH"))
        for table in tables.findall(query["sql"])
    }
    # The request's own (the session, its user, their second factor) and the audit chain's end.
    request_own = {"django_session", "usersessions_usersession", "mfa_authenticator", "audit_auditevent"}
    watched = set(tables.findall(briefing._VERSION_SQL))
    assert read - request_own <= watched, sorted(read - request_own - watched)
    # The capture saw the page being built.
    assert "clients_case" in read
    assert "measures_administration" in read


def test_a_chart_or_page_kept_in_the_cache_is_dropped_when_it_is_full():
    memo = briefing_views.Memo(2)
    built: list[str] = []

    def build(key: str) -> Callable[[], str]:
        def make() -> str:
            built.append(key)
            return key.upper()

        return make

    assert [memo.get(key, build(key)) for key in ("a", "b", "a", "c", "b")] == ["A", "B", "A", "C", "B"]
    # "a" was used again after "b", so "b" was the oldest when "c" came in.
    assert built == ["a", "b", "c", "b"]
    assert memo.get("c", build("c")) == "C"
    assert built == ["a", "b", "c", "b"]
    memo.clear()
    memo.get("c", build("c"))
    assert built[-1] == "c"


def test_the_version_ignores_other_cases(world: World):
    _past, upcoming = _couple(world)
    version = briefing_version(upcoming.public_id)
    sent(world.client, world.individual_case, "phq9", {f"phq9_{n}": 1 for n in range(1, 10)}, timezone.now() - timedelta(hours=1))
    assert briefing_version(upcoming.public_id) == version
