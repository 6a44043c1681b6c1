"""Publishing, signing and withdrawing consents, on both databases."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.audit.models import AuditEvent
from rapport.clients.services import case_set_status
from rapport.consents.models import ConsentItem, ConsentVersion, ItemDecision, Signature, SignedVersionImmutable
from rapport.consents.selectors import consent_granted, consent_state, decision_history, treatment_withdrawals_for
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


def _choices(**changes: bool) -> dict[str, bool]:
    return {**ALL_YES, **changes}


@pytest.fixture
def consents(world):
    world.v1 = consent_defaults_create(actor=world.user("admin"), practice=world.practice)
    world.other_v1 = consent_defaults_create(actor=None, practice=world.other_practice)
    return world


def _sign(world, client_attr="client", persona="client", version=None, **changes):
    client = getattr(world, client_attr)
    return consent_sign(
        actor=world.user(persona), client=client, version=version or world.v1, typed_name=client.full_name, choices=_choices(**changes)
    )


def _republish(world, *, material, text="I agree to take part in therapy, and I know I can stop at any time."):
    items = [ItemSpec(key=i.key, text=text if i.key == "treatment" else i.text, required=i.required) for i in DEFAULT_ITEMS]
    return consent_version_publish(
        actor=world.user("admin"), document=world.v1.document, content=world.v1.content, items=items, material=material
    )


# Versioning


def test_the_default_document_has_seven_items_and_only_treatment_is_required(consents):
    items = list(consents.v1.items.order_by("position"))
    assert [i.key for i in items] == [
        "treatment",
        "email_reminders",
        "text_messages",
        "online_sessions",
        "supervision",
        "check_ins",
        "anonymised_reports",
    ]
    assert [i.key for i in items if i.required] == ["treatment"]
    assert consents.v1.number == 1
    assert len(consents.v1.content_hash) == 64


def test_defaults_are_created_once(consents):
    assert consent_defaults_create(actor=None, practice=consents.practice) == consents.v1
    assert ConsentVersion.objects.filter(document__practice=consents.practice).count() == 1


def test_editing_makes_a_new_version_and_keeps_the_old_one(consents):
    v2 = _republish(consents, material=False)
    assert v2.number == 2
    assert v2.content_hash != consents.v1.content_hash
    old = ConsentVersion.objects.get(pk=consents.v1.pk)
    assert old.content_hash == consents.v1.content_hash
    assert old.items.get(key="treatment").text == consents.v1.items.get(key="treatment").text


def test_publishing_the_same_text_again_is_refused(consents):
    with pytest.raises(ValidationError) as refused:
        consent_version_publish(
            actor=consents.user("admin"), document=consents.v1.document, content=consents.v1.content, items=DEFAULT_ITEMS, material=True
        )
    assert refused.value.code == "unchanged"


def test_a_signed_version_and_its_items_refuse_to_be_saved(consents):
    _sign(consents)
    version = ConsentVersion.objects.get(pk=consents.v1.pk)
    version.content = "Something else entirely."
    with pytest.raises(SignedVersionImmutable):
        version.save()
    item = version.items.get(key="supervision")
    item.required = True
    with pytest.raises(SignedVersionImmutable):
        item.save()
    with pytest.raises(SignedVersionImmutable):
        ConsentItem.objects.create(version=version, key="extra", text="Sneaked in", position=99)
    assert ConsentVersion.objects.get(pk=version.pk).content == consents.v1.content


def test_an_unsigned_version_can_still_be_saved(consents):
    version = ConsentVersion.objects.get(pk=consents.v1.pk)
    version.save(update_fields=["updated_at"])


@pytest.mark.parametrize("persona", ["therapist_a", "supervisor", "client"])
def test_only_a_practice_admin_publishes(consents, persona):
    with pytest.raises(PermissionDenied):
        consent_version_publish(
            actor=consents.user(persona), document=consents.v1.document, content="New text", items=DEFAULT_ITEMS, material=True
        )


def test_an_admin_of_another_practice_cannot_create_documents_here(consents):
    with pytest.raises(PermissionDenied):
        consent_document_create(actor=consents.user("admin"), practice=consents.other_practice, key="extra", title="Extra")


@pytest.mark.parametrize(
    ("items", "code"),
    [
        ([], "empty"),
        ([ItemSpec("Treatment!", "x", True)], "bad_key"),
        ([ItemSpec("treatment", "x", True), ItemSpec("treatment", "y")], "duplicate_key"),
        ([ItemSpec("treatment", "   ", True)], "empty"),
    ],
)
def test_a_malformed_version_is_refused_and_nothing_is_published(consents, items, code):
    with pytest.raises(ValidationError) as refused:
        consent_version_publish(actor=consents.user("admin"), document=consents.v1.document, content="Text", items=items, material=True)
    assert refused.value.code == code
    assert consents.v1.document.versions.count() == 1


# Signing


def test_a_client_signs_and_each_item_gets_a_decision(consents):
    signature = _sign(consents, email_reminders=False, supervision=False)
    assert signature.content_hash == consents.v1.content_hash
    assert signature.signed_by == consents.user("client")
    assert signature.typed_name == "Cora Client"
    assert consent_state(consents.client) == _choices(email_reminders=False, supervision=False)
    assert signature.decisions.count() == len(DEFAULT_ITEMS)
    assert consent_granted(consents.client, "treatment")
    assert not consent_granted(consents.client, "supervision")


def test_the_treating_therapist_may_record_a_signature_given_in_the_room(consents):
    signature = consent_sign(
        actor=consents.user("therapist_a"),
        client=consents.client,
        version=consents.v1,
        typed_name="cora client",
        choices=ALL_YES,
        case=consents.individual_case,
    )
    assert signature.signed_by == consents.user("therapist_a")
    assert signature.case == consents.individual_case


@pytest.mark.parametrize("persona", ["therapist_b", "supervisor", "admin", "partner_a", "other_practice_client"])
def test_nobody_else_signs_for_a_client(consents, persona):
    with pytest.raises(PermissionDenied):
        _sign(consents, persona=persona)
    assert not Signature.objects.exists()


def test_a_partner_cannot_sign_for_the_other_partner(consents):
    with pytest.raises(PermissionDenied):
        _sign(consents, client_attr="partner_b", persona="partner_a")


def test_the_therapist_of_a_closed_case_no_longer_signs_for_the_client(consents):
    case_set_status(actor=consents.user("therapist_a"), case=consents.individual_case, status="closed")
    with pytest.raises(PermissionDenied):
        _sign(consents, persona="therapist_a")


def _refusal(world, **kwargs):
    arguments = {
        "actor": world.user("client"),
        "client": world.client,
        "version": world.v1,
        "typed_name": "Cora Client",
        "choices": ALL_YES,
        **kwargs,
    }
    with pytest.raises(ValidationError) as refused:
        consent_sign(**arguments)
    assert not Signature.objects.exists()
    assert not ItemDecision.objects.exists()
    assert not AuditEvent.objects.filter(object_type="consents.signature").exists()
    return refused.value


def test_signing_an_outdated_version_is_refused_with_a_clear_message(consents):
    _republish(consents, material=False)
    error = _refusal(consents)
    assert error.code == "outdated"
    assert "updated since it was opened" in error.messages[0]


def test_a_required_item_not_granted_is_refused(consents):
    error = _refusal(consents, choices=_choices(treatment=False))
    assert error.code == "required"
    assert "I agree to take part in therapy" in error.messages[0]


@pytest.mark.parametrize(
    "choices",
    [
        _choices(admin_override=True),
        {k: v for k, v in ALL_YES.items() if k != "supervision"},
        _choices(supervision="yes"),  # type: ignore[arg-type]
        {},
    ],
    ids=["extra key", "missing key", "not a boolean", "nothing"],
)
def test_tampered_item_keys_are_refused(consents, choices):
    assert _refusal(consents, choices=choices).code == "unknown_items"


@pytest.mark.parametrize("typed", ["", "Cora", "Pat Partner"])
def test_a_typed_name_that_is_not_the_clients_is_refused(consents, typed):
    assert _refusal(consents, typed_name=typed).code == "name_mismatch"


def test_another_practices_version_is_refused(consents):
    assert _refusal(consents, version=consents.other_v1).code == "wrong_practice"


def test_a_case_the_client_is_not_in_is_refused(consents):
    assert _refusal(consents, case=consents.couple_case).code == "wrong_case"


def test_a_version_whose_stored_text_no_longer_matches_its_hash_is_never_signed(consents):
    # A write around the services (a raw update) is exactly what the hash is there to catch.
    ConsentItem.objects.filter(version=consents.v1, key="supervision").update(text="Tampered wording")
    assert _refusal(consents).code == "hash_mismatch"


def test_a_signature_is_audited_against_the_clients_record(consents):
    signature = _sign(consents)
    event = AuditEvent.objects.get(object_type="consents.signature")
    assert event.action == "sign"
    assert event.object_id == signature.public_id
    assert event.client_id == consents.client.public_id
    assert event.practice_id == consents.practice.public_id
    assert event.actor == consents.user("client")
    assert event.detail == {"document": "practice-consent", "version": 1, "items": len(DEFAULT_ITEMS)}


# Withdrawal


def test_withdrawal_is_a_new_row_and_the_state_follows_the_newest(consents):
    _sign(consents)
    withdrawal = consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="supervision")
    assert not withdrawal.therapist_must_be_told
    assert not consent_granted(consents.client, "supervision")
    assert consent_state(consents.client)["supervision"] is False
    rows = list(
        ItemDecision.objects.filter(client=consents.client, item_key="supervision").order_by("id").values_list("granted", flat=True)
    )
    assert rows == [True, False]
    assert [d.granted for d in decision_history(consents.client) if d.item_key == "supervision"] == [False, True]


def test_signing_again_grants_a_withdrawn_item_again_and_keeps_the_history(consents):
    _sign(consents)
    consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="email_reminders")
    _sign(consents)
    assert consent_granted(consents.client, "email_reminders")
    history = [d.granted for d in decision_history(consents.client) if d.item_key == "email_reminders"]
    assert history == [True, False, True]


def test_decisions_cannot_be_edited_in_place(consents):
    _sign(consents)
    decision = ItemDecision.objects.filter(client=consents.client).first()
    decision.granted = False
    with pytest.raises(RuntimeError, match="append-only"):
        decision.save()


def test_withdrawing_an_item_never_granted_is_refused(consents):
    _sign(consents, text_messages=False)
    for key, code in [("text_messages", "already_withdrawn"), ("no_such_item", "not_granted")]:
        with pytest.raises(ValidationError) as refused:
            consent_withdraw(actor=consents.user("client"), client=consents.client, item_key=key)
        assert refused.value.code == code
    with pytest.raises(ValidationError) as refused:
        consent_withdraw(actor=consents.user("partner_a"), client=consents.partner_a, item_key="supervision")
    assert refused.value.code == "not_granted"
    assert ItemDecision.objects.filter(signature__isnull=True).count() == 0


def test_withdrawing_twice_is_refused_the_second_time(consents):
    _sign(consents)
    consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="online_sessions")
    with pytest.raises(ValidationError):
        consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="online_sessions")
    assert ItemDecision.objects.filter(signature__isnull=True).count() == 1


def test_withdrawing_treatment_tells_the_therapist_and_keeps_the_case(consents):
    _sign(consents)
    withdrawal = consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="treatment")
    assert withdrawal.therapist_must_be_told
    assert withdrawal.therapists_to_tell == [consents.therapist_a]
    assert not consent_granted(consents.client, "treatment")
    consents.individual_case.refresh_from_db()
    assert consents.individual_case.status == "active"
    assert [d.client for d in treatment_withdrawals_for(consents.therapist_a)] == [consents.client]
    assert treatment_withdrawals_for(consents.therapist_b) == []
    event = AuditEvent.objects.get(object_type="consents.decision")
    assert event.detail == {"item": "treatment", "granted": False, "therapists_to_tell": 1}


def test_signing_again_clears_the_treatment_withdrawal(consents):
    _sign(consents)
    consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="treatment")
    _sign(consents)
    assert treatment_withdrawals_for(consents.therapist_a) == []


def test_a_withdrawal_is_audited_against_the_clients_record(consents):
    _sign(consents)
    withdrawal = consent_withdraw(actor=consents.user("client"), client=consents.client, item_key="email_reminders")
    event = AuditEvent.objects.get(object_type="consents.decision")
    assert event.action == "create"
    assert event.object_id == withdrawal.decision.public_id
    assert event.client_id == consents.client.public_id
    assert event.detail == {"item": "email_reminders", "granted": False, "therapists_to_tell": 0}


@pytest.mark.parametrize("persona", ["therapist_b", "supervisor", "admin", "partner_b"])
def test_nobody_else_withdraws_for_a_client(consents, persona):
    _sign(consents, client_attr="partner_a", persona="partner_a")
    with pytest.raises(PermissionDenied):
        consent_withdraw(actor=consents.user(persona), client=consents.partner_a, item_key="supervision")
    assert consent_granted(consents.partner_a, "supervision")
