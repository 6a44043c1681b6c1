"""Supervisors see their supervisees' cases only while every client consents, and never a name.

ARCHITECTURE.md "Visibility rules", the supervisor column; docs/supervision.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.audit.models import Action, AuditEvent
from rapport.clients import access
from rapport.clients.models import Case, CaseStatus
from rapport.clients.selectors import case_get_for_user, cases_visible_to
from rapport.clients.services import case_open, client_account_create, client_create
from rapport.consents.selectors import cases_where_every_client_grants, clients_granting, consent_granted, granted_since
from rapport.consents.services import SUPERVISION
from rapport.practice.models import ServiceKind
from rapport.practice.services import staff_user_create, supervision_create
from rapport.scheduling.models import Appointment, AppointmentStatus
from tests.consenting import sign_all, withdraw
from tests.personas import PASSWORD
from tests.sessions import book

LIST = reverse("workspace:supervision")


def _case_url(case: Case) -> str:
    return reverse("workspace:supervision_case", kwargs={"case_id": case.public_id})


def _supervisor(world):
    return world.user("supervisor")


@pytest.fixture
def no_gate() -> Iterator[None]:
    saved = access._gate
    access.register_supervision_gate(None)
    yield
    access.register_supervision_gate(saved)


# --- The selectors --------------------------------------------------------------------------------


def test_without_consent_the_supervisor_of_the_therapist_gets_403_and_an_empty_list(world):
    assert list(cases_visible_to(_supervisor(world))) == []
    with pytest.raises(PermissionDenied):
        case_get_for_user(_supervisor(world), world.individual_case.public_id)


def test_with_consent_the_case_is_listed_and_opens(world):
    sign_all(world.client)
    assert list(cases_visible_to(_supervisor(world))) == [world.individual_case]
    assert case_get_for_user(_supervisor(world), world.individual_case.public_id) == world.individual_case


def test_saying_no_to_supervision_when_signing_is_not_consent(world):
    sign_all(world.client, supervision=False)
    assert list(cases_visible_to(_supervisor(world))) == []
    with pytest.raises(PermissionDenied):
        case_get_for_user(_supervisor(world), world.individual_case.public_id)


def test_a_couple_needs_both_partners(world):
    sign_all(world.partner_a)
    assert world.couple_case not in cases_visible_to(_supervisor(world))
    with pytest.raises(PermissionDenied):
        case_get_for_user(_supervisor(world), world.couple_case.public_id)
    sign_all(world.partner_b, supervision=False)
    assert world.couple_case not in cases_visible_to(_supervisor(world))
    sign_all(world.partner_b)
    assert world.couple_case in cases_visible_to(_supervisor(world))
    assert case_get_for_user(_supervisor(world), world.couple_case.public_id) == world.couple_case


def test_one_partner_withdrawing_closes_the_couples_case_to_the_supervisor(world):
    sign_all(world.partner_a)
    sign_all(world.partner_b)
    withdraw(world.partner_b, SUPERVISION)
    assert world.couple_case not in cases_visible_to(_supervisor(world))
    with pytest.raises(PermissionDenied):
        case_get_for_user(_supervisor(world), world.couple_case.public_id)


def test_a_supervisor_of_another_therapist_gets_404_even_with_consent(world):
    sign_all(world.client)
    other_supervisor = staff_user_create(
        actor=None,
        practice=world.practice,
        email="second.supervisor@harbour.example",
        full_name="Sam Second",
        role="supervisor",
        password=PASSWORD,
    )
    supervision_create(actor=None, supervisor=other_supervisor, therapist=world.therapist_b)
    with pytest.raises(Http404):
        case_get_for_user(other_supervisor, world.individual_case.public_id)
    assert list(cases_visible_to(other_supervisor)) == []


def test_a_case_of_a_therapist_not_supervised_is_404_for_the_supervisor(world):
    stranger = client_create(actor=None, practice=world.practice, full_name="Nico Notsupervised", email="nico@mail.example")
    case = case_open(actor=world.user("therapist_b"), therapist=world.therapist_b, clients=[stranger], status=CaseStatus.ACTIVE)
    with pytest.raises(Http404):
        case_get_for_user(_supervisor(world), case.public_id)
    assert case not in cases_visible_to(_supervisor(world))


def test_with_no_gate_registered_nothing_passes(world, no_gate):
    sign_all(world.client)
    assert list(cases_visible_to(_supervisor(world))) == []
    with pytest.raises(PermissionDenied):
        case_get_for_user(_supervisor(world), world.individual_case.public_id)


def test_the_consents_app_registers_the_gate():
    from rapport.consents.selectors import supervision_gate

    assert access._gate is supervision_gate


def test_the_practice_admin_still_gets_403_with_consent(world):
    sign_all(world.client)
    with pytest.raises(PermissionDenied):
        case_get_for_user(world.user("admin"), world.individual_case.public_id)


def test_the_list_query_agrees_with_the_row_by_row_check(world):
    sign_all(world.client)
    sign_all(world.partner_a)
    sign_all(world.partner_b, supervision=False)
    clients = [world.client, world.partner_a, world.partner_b, world.other_client]
    granting = set(clients_granting(SUPERVISION))
    assert granting == {c for c in clients if consent_granted(c, SUPERVISION)} == {world.client, world.partner_a}
    assert set(cases_where_every_client_grants(Case.objects.all(), SUPERVISION)) == {world.individual_case}


def test_a_case_without_clients_grants_nothing(world):
    empty = Case.objects.create(practice=world.practice, kind="individual", primary_therapist=world.therapist_a, opened_at=timezone.now())
    assert empty not in cases_where_every_client_grants(Case.objects.all(), SUPERVISION)


def test_consent_holds_since_it_began_and_a_withdrawal_restarts_it(world):
    assert granted_since(world.client, SUPERVISION) is None
    sign_all(world.client)
    first = granted_since(world.client, SUPERVISION)
    assert first is not None
    withdraw(world.client, SUPERVISION)
    assert granted_since(world.client, SUPERVISION) is None
    sign_all(world.client)
    again = granted_since(world.client, SUPERVISION)
    assert again is not None
    assert again > first


# --- The pages ------------------------------------------------------------------------------------


def test_withdrawing_takes_the_case_away_on_the_next_request(world, client_as):
    sign_all(world.client)
    browser = client_as("supervisor")
    assert browser.get(_case_url(world.individual_case)).status_code == 200
    assert world.individual_case.pseudonym in browser.get(LIST).content.decode()

    withdraw(world.client, SUPERVISION)

    assert browser.get(_case_url(world.individual_case)).status_code == 403
    assert world.individual_case.pseudonym not in browser.get(LIST).content.decode()


def test_the_pages_show_no_names_or_emails(world, client_as):
    for client in (world.client, world.partner_a, world.partner_b):
        sign_all(client)
    browser = client_as("supervisor")
    pages = [browser.get(LIST)] + [browser.get(_case_url(c)) for c in (world.individual_case, world.couple_case)]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        for client in (world.client, world.partner_a, world.partner_b):
            assert client.full_name not in html
            assert client.email not in html
            assert client.full_name.split()[0] not in html
        assert "Fictional summary" not in html
    listing = pages[0].content.decode()
    assert world.individual_case.pseudonym in listing
    assert world.couple_case.pseudonym in listing
    assert world.therapist_a.display_name in listing


def test_the_pseudonym_comes_from_the_public_id():
    case = Case(kind="couple")
    assert case.pseudonym == f"Couple {case.public_id.hex[:4].upper()}"
    assert Case(kind="individual").pseudonym.startswith("Client ")


def test_the_therapist_sees_the_label_their_supervisor_sees(world, client_as):
    html = client_as("therapist_a").get(reverse("workspace:case_detail", kwargs={"case_id": world.individual_case.public_id}))
    assert world.individual_case.pseudonym in html.content.decode()


def test_the_case_page_shows_the_basics_and_session_counts(world, client_as):
    sign_all(world.client)
    held = book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    cancelled = book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=12)
    book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=14)
    # Moved into the past without the booking service: a session that took place.
    past = timezone.now() - timedelta(days=7)
    Appointment.objects.filter(pk=held.pk).update(
        start=past, end=past + timedelta(minutes=50), blocked_start=past, blocked_end=past + timedelta(hours=1)
    )
    Appointment.objects.filter(pk=cancelled.pk).update(status=AppointmentStatus.CANCELLED)

    response = client_as("supervisor").get(_case_url(world.individual_case))

    counts = response.context["case"].sessions
    assert (counts.held, counts.cancelled, counts.missed, counts.upcoming) == (1, 1, 0, 1)
    html = response.content.decode()
    assert "Consents to supervision since" in html
    assert "Individual" in html
    assert "Active" in html


def test_opening_a_case_is_in_each_clients_record_of_who_opened_it(world, client_as):
    for client in (world.partner_a, world.partner_b):
        sign_all(client)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    assert client_as("supervisor").get(_case_url(world.couple_case)).status_code == 200

    events = AuditEvent.objects.filter(id__gt=mark, action=Action.VIEW)
    assert sorted(str(e.client_id) for e in events) == sorted(str(c.public_id) for c in (world.partner_a, world.partner_b))
    assert {e.actor_id for e in events} == {_supervisor(world).pk}
    for partner in ("partner_a", "partner_b"):
        page = client_as(partner).get(reverse("portal:record_access")).content.decode()
        assert "Sol Supervisor" in page


def test_a_refused_case_page_records_no_read(world, client_as):
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    assert client_as("supervisor").get(_case_url(world.individual_case)).status_code == 403
    assert not AuditEvent.objects.filter(id__gt=mark, action=Action.VIEW).exists()


def test_a_supervisee_without_consenting_cases_is_listed_with_a_note(world, client_as):
    html = client_as("supervisor").get(LIST).content.decode()
    assert world.therapist_a.display_name in html
    assert "No case of" in html


def _count(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


def test_the_list_costs_the_same_queries_however_many_cases_consent(world, client_as):
    sign_all(world.client)
    browser = client_as("supervisor")
    browser.get(LIST)  # the session's first request writes the session
    control = _count(browser, LIST)
    for n in range(5):
        first = client_create(actor=None, practice=world.practice, full_name=f"Extra Client {n}", email=f"extra{n}@mail.example")
        second = client_create(actor=None, practice=world.practice, full_name=f"Extra Partner {n}", email=f"partner{n}@mail.example")
        for extra in (first, second):
            client_account_create(actor=None, client=extra, password=PASSWORD)
            sign_all(extra)
        case_open(actor=world.user("therapist_a"), therapist=world.therapist_a, clients=[first, second], status="active")
    assert len(cases_visible_to(_supervisor(world))) == 6
    assert _count(browser, LIST) == control
