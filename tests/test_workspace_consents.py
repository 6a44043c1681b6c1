"""Consents in the staff workspace: what the therapist is told and shown, and the admin's pages."""

from __future__ import annotations

import pytest

from rapport.consents.services import DEFAULT_ITEMS, consent_defaults_create, consent_sign, consent_withdraw
from tests.personas import World

ALL_YES = {item.key: True for item in DEFAULT_ITEMS}


@pytest.fixture
def consents(world: World) -> World:
    world.v1 = consent_defaults_create(actor=None, practice=world.practice)  # type: ignore[attr-defined]
    consent_defaults_create(actor=None, practice=world.other_practice)
    return world


def _sign(world: World, client, persona: str, **choices: bool):
    return consent_sign(
        actor=world.user(persona),  # type: ignore[arg-type]
        client=client,
        version=world.v1,  # type: ignore[attr-defined]
        typed_name=client.full_name,
        choices=ALL_YES | choices,
    )


# --- The therapist -----------------------------------------------------------------------------


def test_the_treating_therapist_is_told_on_their_home_page_when_consent_to_treatment_is_withdrawn(consents, client_as):
    _sign(consents, consents.client, "client")
    consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="treatment")
    page = client_as("therapist_a").get("/workspace/")
    assert page.status_code == 200
    assert "Consent to treatment withdrawn" in page.content.decode()
    assert "Cora Client" in page.content.decode().split("Consent to treatment withdrawn")[1].split("</section>")[0]


def test_no_withdrawal_notice_while_treatment_is_granted(consents, client_as):
    _sign(consents, consents.client, "client")
    consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="email_reminders")
    assert "Consent to treatment withdrawn" not in client_as("therapist_a").get("/workspace/").content.decode()


def test_another_therapist_is_not_told_of_a_client_they_do_not_treat(consents, client_as):
    _sign(consents, consents.client, "client")
    consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="treatment")
    page = client_as("therapist_b").get("/workspace/").content.decode()
    assert "Consent to treatment withdrawn" not in page
    assert "Cora Client" not in page


def test_the_case_page_shows_each_clients_current_consents_and_history(consents, client_as):
    _sign(consents, consents.client, "client", supervision=False)
    consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="email_reminders")
    page = client_as("therapist_a").get(f"/workspace/cases/{consents.individual_case.public_id}/")
    assert page.status_code == 200
    section = page.content.decode().split('id="consents-heading"')[1].split("</section>")[0]
    assert section.count("Withdrawn") == 2  # supervision (said no when signing) and email reminders
    assert "said no to “email_reminders”" in section
    assert "agreed to “email_reminders”" in section
    assert "version 1" in section
    assert len(page.context["consents"][0].history) == len(DEFAULT_ITEMS) + 1


def test_in_a_couple_each_partners_consents_are_shown_apart(consents, client_as):
    _sign(consents, consents.partner_a, "partner_a", online_sessions=False)
    page = client_as("therapist_a").get(f"/workspace/cases/{consents.couple_case.public_id}/")
    shown = {entry.client.full_name: entry for entry in page.context["consents"]}
    assert [d.item_key for d in shown["Pat Partner"].current if not d.granted] == ["online_sessions"]
    assert shown["Quinn Partner"].current == []
    assert "Quinn Partner has not signed a consent form yet." in page.content.decode()


def test_the_case_page_without_any_signature_says_so(consents, client_as):
    page = client_as("therapist_a").get(f"/workspace/cases/{consents.individual_case.public_id}/").content.decode()
    assert "Cora Client has not signed a consent form yet." in page
