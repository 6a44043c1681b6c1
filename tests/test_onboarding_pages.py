"""Onboarding pages: the therapist's invite button, the client's welcome page, and where they land."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import User
from rapport.clients.models import ClientInvitation
from rapport.clients.onboarding import EXPIRED, USED, client_invite
from rapport.clients.todo import INTAKE_LABEL
from rapport.consents.services import consent_defaults_create
from tests.newcomers import NEW_PASSWORD, Newcomers, add_newcomers

HOME = reverse("portal:home")


def _invite_url(case, client) -> str:
    return reverse("workspace:client_invite", kwargs={"case_id": case.public_id, "client_id": client.public_id})


def _case_url(case) -> str:
    return reverse("workspace:case_detail", kwargs={"case_id": case.public_id})


def _welcome(token: str) -> str:
    return reverse("portal:welcome", kwargs={"token": token})


@pytest.fixture
def newcomers(world) -> Newcomers:
    return add_newcomers(world)


@pytest.fixture
def nina_token(world, newcomers: Newcomers) -> str:
    return client_invite(actor=world.user("therapist_a"), case=newcomers.nina_case, client=newcomers.nina).token


# --- The therapist's case page ---------------------------------------------------------------------------


def test_the_therapist_invites_from_the_case_page_and_sees_the_state(world, newcomers, client_as, django_capture_on_commit_callbacks):
    browser = client_as("therapist_a")
    page = browser.get(_case_url(newcomers.couple)).content.decode()
    assert page.count("Not invited to the portal yet.") == 2
    assert _invite_url(newcomers.couple, newcomers.ana) in page

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(_invite_url(newcomers.couple, newcomers.ana))

    assert response.status_code == 303
    assert response["Location"].startswith(_case_url(newcomers.couple))
    (message,) = mail.outbox
    assert message.to == ["ana@mail.example"]
    page = browser.get(_case_url(newcomers.couple)).content.decode()
    assert "Invitation sent to Ana Arrival at ana@mail.example." in page
    assert "Invitation sent on" in page
    assert "Send a new invitation" in page
    assert "Not invited to the portal yet." in page  # Ben


def test_a_client_with_an_account_is_shown_as_such_and_a_forced_invite_changes_nothing(world, client_as):
    browser = client_as("therapist_a")
    page = browser.get(_case_url(world.couple_case)).content.decode()
    assert page.count("Has a portal account.") == 2
    assert _invite_url(world.couple_case, world.partner_a) not in page

    response = browser.post(_invite_url(world.couple_case, world.partner_a), follow=True)

    assert "This person already has a portal account." in response.content.decode()
    assert not ClientInvitation.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("client_attr", ["ana", "nina"])
def test_a_client_of_another_case_in_the_url_is_not_found(world, newcomers, client_as, client_attr):
    # Nina's own case with Ana's id, or the couple's case with Nina's id: either way, not found.
    case = newcomers.nina_case if client_attr == "ana" else newcomers.couple
    response = client_as("therapist_a").post(_invite_url(case, getattr(newcomers, client_attr)))
    assert response.status_code == 404
    assert not ClientInvitation.objects.exists()


def test_the_case_page_of_a_supervisor_or_admin_shows_no_invite_buttons(world, client_as):
    # They cannot open the case at all (403); the button is for the case's therapist only.
    for persona in ("admin", "supervisor"):
        assert client_as(persona).get(_case_url(world.couple_case)).status_code == 403


# --- The welcome page --------------------------------------------------------------------------------------


def test_the_welcome_page_is_private_and_names_the_address(world, nina_token, client_as):
    response = client_as("anonymous").get(_welcome(nina_token))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Robots-Tag"] == "noindex"
    body = response.content.decode()
    assert "nina@mail.example" in body
    assert "Theo Treating" in body


def test_accepting_signs_the_client_in_and_lands_on_both_first_steps(world, newcomers, nina_token, client_as):
    consent_defaults_create(actor=None, practice=world.practice)
    browser = client_as("anonymous")

    response = browser.post(_welcome(nina_token), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 303
    assert response["Location"] == HOME
    home = browser.get(HOME)
    assert home.status_code == 200
    assert home.wsgi_request.user.email == "nina@mail.example"
    body = home.content.decode()
    assert INTAKE_LABEL in body
    assert "Read and sign:" in body
    assert "Your account is ready" in body
    # The link is spent.
    again = client_as("anonymous").get(_welcome(nina_token))
    assert again.status_code == 404
    assert USED in again.content.decode()


def test_passwords_that_differ_create_nothing(world, nina_token, client_as):
    response = client_as("anonymous").post(_welcome(nina_token), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "x"})
    assert response.status_code == 400
    assert "The two passwords do not match." in response.content.decode()
    assert not User.objects.filter(email="nina@mail.example").exists()


def test_a_weak_password_is_explained_and_creates_nothing(world, nina_token, client_as):
    response = client_as("anonymous").post(_welcome(nina_token), {"password1": "short", "password2": "short"})
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert not User.objects.filter(email="nina@mail.example").exists()


def test_an_expired_link_says_so_and_creates_nothing(world, nina_token, client_as):
    ClientInvitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    browser = client_as("anonymous")
    for response in (
        browser.get(_welcome(nina_token)),
        browser.post(_welcome(nina_token), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}),
    ):
        assert response.status_code == 404
        assert EXPIRED in response.content.decode()
        assert "nina@mail.example" not in response.content.decode()
    assert not User.objects.filter(email="nina@mail.example").exists()


@pytest.mark.parametrize("persona", ["partner_a", "therapist_a"])
def test_a_signed_in_visitor_is_told_plainly_and_nothing_changes(world, nina_token, client_as, persona):
    browser = client_as(persona)
    shown = browser.get(_welcome(nina_token))
    posted = browser.post(_welcome(nina_token), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    for response in (shown, posted):
        assert response.status_code == 200
        assert "You are already signed in" in response.content.decode()
        assert "nina@mail.example" not in response.content.decode()
    assert not User.objects.filter(email="nina@mail.example").exists()
    assert ClientInvitation.objects.get().accepted_at is None


def test_the_invitation_shows_in_the_new_clients_record_access_in_plain_words(world, newcomers, nina_token, client_as):
    browser = client_as("anonymous")
    browser.post(_welcome(nina_token), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    rows = browser.get(reverse("portal:record_access")).context["rows"]

    assert any(row.who == "Theo Treating" and row.action == "sent an invitation for" and row.kind == "your portal account" for row in rows)
