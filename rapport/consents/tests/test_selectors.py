"""What each client is asked to sign, and whose choices each selector returns."""

from __future__ import annotations

import pytest

from rapport.consents.selectors import consent_granted, consent_state, decision_history, needs_consent, signatures_of
from rapport.consents.services import (
    DEFAULT_ITEMS,
    ItemSpec,
    consent_defaults_create,
    consent_document_create,
    consent_sign,
    consent_version_publish,
    consent_withdraw,
)

ALL_YES = {item.key: True for item in DEFAULT_ITEMS}


@pytest.fixture
def consents(world):
    world.v1 = consent_defaults_create(actor=None, practice=world.practice)
    consent_defaults_create(actor=None, practice=world.other_practice)
    return world


def _sign(world, client, persona, version):
    return consent_sign(actor=world.user(persona), client=client, version=version, typed_name=client.full_name, choices=ALL_YES)


def _edit(world, *, material, wording):
    items = [
        ItemSpec(key=i.key, text=f"{i.text} {wording}" if i.key == "online_sessions" else i.text, required=i.required)
        for i in DEFAULT_ITEMS
    ]
    return consent_version_publish(actor=None, document=world.v1.document, content=world.v1.content, items=items, material=material)


def test_a_client_who_never_signed_needs_the_current_version(consents):
    assert needs_consent(consents.client) == [consents.v1]


def test_a_document_without_a_version_asks_nothing(consents):
    consent_document_create(actor=None, practice=consents.practice, key="draft", title="A draft")
    assert needs_consent(consents.client) == [consents.v1]


def test_after_signing_nothing_is_needed(consents):
    _sign(consents, consents.client, "client", consents.v1)
    assert needs_consent(consents.client) == []


def test_a_material_change_asks_for_consent_again(consents):
    _sign(consents, consents.client, "client", consents.v1)
    v2 = _edit(consents, material=True, wording="Sessions use the practice's own video service.")
    assert needs_consent(consents.client) == [v2]
    _sign(consents, consents.client, "client", v2)
    assert needs_consent(consents.client) == []


def test_a_non_material_change_does_not(consents):
    _sign(consents, consents.client, "client", consents.v1)
    _edit(consents, material=False, wording="(Typo fixed.)")
    assert needs_consent(consents.client) == []


def test_a_material_change_still_counts_after_a_later_minor_edit(consents):
    _sign(consents, consents.client, "client", consents.v1)
    _edit(consents, material=True, wording="A new video service.")
    v3 = _edit(consents, material=False, wording="A new video service. (Typo fixed.)")
    assert needs_consent(consents.client) == [v3]


def test_until_they_sign_again_earlier_choices_still_hold(consents):
    _sign(consents, consents.client, "client", consents.v1)
    _edit(consents, material=True, wording="A new video service.")
    assert consent_granted(consents.client, "online_sessions")


def test_each_partner_has_their_own_state_and_history(consents):
    _sign(consents, consents.partner_a, "partner_a", consents.v1)
    consent_withdraw(actor=consents.user("partner_a"), client=consents.partner_a, item_key="supervision")
    assert consent_state(consents.partner_b) == {}
    assert not decision_history(consents.partner_b).exists()
    assert not signatures_of(consents.partner_b).exists()
    assert needs_consent(consents.partner_b) == [consents.v1]
    assert not consent_granted(consents.partner_b, "treatment")

    _sign(consents, consents.partner_b, "partner_b", consents.v1)
    assert consent_granted(consents.partner_b, "supervision")
    assert not consent_granted(consents.partner_a, "supervision")
    assert {d.client_id for d in decision_history(consents.partner_a)} == {consents.partner_a.pk}


def test_a_client_of_another_practice_is_asked_for_their_own_practices_document(consents):
    (version,) = needs_consent(consents.other_client)
    assert version.document.practice == consents.other_practice


def test_the_history_names_the_item_as_worded_when_chosen(consents, django_assert_max_num_queries):
    _sign(consents, consents.client, "client", consents.v1)
    consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="email_reminders")
    with django_assert_max_num_queries(1):
        history = list(decision_history(consents.client))
        latest = history[0]
        assert (latest.item_key, latest.granted, latest.signature) == ("email_reminders", False, None)
        assert latest.item.version.document.key == "practice-consent"
        assert latest.decided_by.email == "cora@mail.example"
    assert len(history) == len(DEFAULT_ITEMS) + 1


def test_the_consent_selectors_take_a_fixed_number_of_queries(consents, django_assert_num_queries):
    _sign(consents, consents.client, "client", consents.v1)
    with django_assert_num_queries(1):
        consent_state(consents.client)
    with django_assert_num_queries(1):
        consent_granted(consents.client, "email_reminders")
    # Signatures, documents, and their versions: the same three however many documents there are.
    with django_assert_num_queries(3):
        needs_consent(consents.client)
