"""The intake form: the client's own, encrypted, and read by the therapist of their case only."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.urls import reverse

from rapport.audit.models import Action, AuditEvent
from rapport.clients.intake import intake_for_reader, intake_save
from rapport.clients.models import Intake
from rapport.clients.todo import INTAKE_LABEL

PAT_WORDS = "Fictional: we argue about the dishes and I miss how we used to talk."
PAT_HOPE = "Fictional: to laugh together again."
INTAKE = reverse("portal:intake")
HOME = reverse("portal:home")


def _pat_answers(**overrides: str) -> dict[str, str]:
    answers = {
        "phone": "+1 555 0100",
        "postal_address": "1 Fictional Lane, Harbour Town",
        "emergency_name": "Sam Sibling",
        "emergency_phone": "+1 555 0199",
        "emergency_relationship": "brother",
        "what_brings_you": PAT_WORDS,
        "what_you_hope_for": PAT_HOPE,
    }
    answers.update(overrides)
    return answers


@pytest.fixture
def pat_intake(world) -> Intake:
    return intake_save(actor=world.user("partner_a"), client=world.partner_a, **_pat_answers())


def _intake_url(world, case_attr: str = "couple_case", client_attr: str = "partner_a") -> str:
    case, client = getattr(world, case_attr), getattr(world, client_attr)
    return reverse("workspace:client_intake", kwargs={"case_id": case.public_id, "client_id": client.public_id})


# --- Saving --------------------------------------------------------------------------------------------


def test_the_client_saves_their_intake_and_the_audit_names_fields_only(world, pat_intake):
    assert pat_intake.what_brings_you == PAT_WORDS
    event = AuditEvent.objects.get(object_type="clients.intake", action=Action.CREATE)
    assert event.client_id == world.partner_a.public_id
    assert event.actor == world.user("partner_a")
    assert "what_brings_you" in event.detail["fields"]
    assert "dishes" not in str(event.detail)


def test_saving_again_updates_only_what_changed(world, pat_intake):
    intake_save(actor=world.user("partner_a"), client=world.partner_a, **_pat_answers(phone="+1 555 0111"))
    event = AuditEvent.objects.filter(object_type="clients.intake").latest("id")
    assert (event.action, event.detail) == (Action.UPDATE, {"fields": ["phone"]})
    assert Intake.objects.get(client=world.partner_a).phone == "+1 555 0111"


@pytest.mark.parametrize("persona", ["partner_b", "therapist_a", "admin", "client"])
def test_nobody_else_can_write_a_clients_intake(world, persona):
    with pytest.raises(PermissionError):
        intake_save(actor=world.user(persona), client=world.partner_a, **_pat_answers())
    assert not Intake.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"what_brings_you": "  "}, "what_brings_you"),
        ({"emergency_phone": ""}, "emergency_phone"),
        ({"emergency_name": ""}, "emergency_name"),
        ({"phone": "1" * 41}, "phone"),
    ],
)
def test_a_problem_saves_nothing_and_names_the_field(world, overrides, field):
    with pytest.raises(ValidationError) as refused:
        intake_save(actor=world.user("partner_a"), client=world.partner_a, **_pat_answers(**overrides))
    assert field in refused.value.message_dict
    assert not Intake.objects.exists()
    assert not AuditEvent.objects.filter(object_type="clients.intake").exists()


def test_the_answers_are_encrypted_at_rest(world, pat_intake):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, postal_address, emergency_name, emergency_phone, emergency_relationship, what_brings_you, "
            "what_you_hope_for FROM clients_intake WHERE id = %s",
            [pat_intake.pk],
        )
        raw = cursor.fetchone()
    for stored, plain in zip(raw, _pat_answers().values(), strict=True):
        assert stored.startswith("v1.")
        assert plain not in stored
    assert Intake.objects.get(pk=pat_intake.pk).what_you_hope_for == PAT_HOPE


# --- Reading -------------------------------------------------------------------------------------------


def test_the_therapist_reads_it_and_the_read_is_audited_for_that_partner_only(world, pat_intake, client_as):
    response = client_as("therapist_a").get(_intake_url(world))

    assert response.status_code == 200
    assert PAT_WORDS in response.content.decode()
    (event,) = AuditEvent.objects.filter(action=Action.VIEW, object_type="clients.intake")
    assert (event.client_id, event.actor, event.object_id) == (world.partner_a.public_id, world.user("therapist_a"), pat_intake.public_id)
    # It shows in Pat's "who opened my record", and not in Quinn's.
    pat_rows = client_as("partner_a").get(reverse("portal:record_access")).context["rows"]
    assert any(row.who == "Theo Treating" and row.action == "opened" and row.kind == "your intake form" for row in pat_rows)
    quinn_rows = client_as("partner_b").get(reverse("portal:record_access")).context["rows"]
    assert not any(row.kind == "your intake form" for row in quinn_rows)


def test_the_therapist_sees_when_nothing_was_sent_yet(world, client_as):
    response = client_as("therapist_a").get(_intake_url(world, client_attr="partner_b"))
    assert response.status_code == 200
    assert "has not sent their intake form yet" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.VIEW, object_type="clients.intake").exists()


@pytest.mark.parametrize(
    ("persona", "refusal"),
    [
        ("therapist_b", Http404),
        ("admin", PermissionDenied),
        ("supervisor", PermissionDenied),
        ("partner_b", Http404),
        ("partner_a", Http404),
    ],
)
def test_the_selector_turns_away_everyone_else(world, pat_intake, persona, refusal):
    with pytest.raises(refusal):
        intake_for_reader(world.user(persona), world.couple_case.public_id, world.partner_a.public_id)
    assert not AuditEvent.objects.filter(action=Action.VIEW, object_type="clients.intake").exists()


@pytest.mark.parametrize(
    ("case_attr", "client_attr"),
    [("individual_case", "partner_a"), ("other_case", "other_client"), ("couple_case", "client")],
)
def test_mixed_up_ids_are_not_found(world, pat_intake, client_as, case_attr, client_attr):
    assert client_as("therapist_a").get(_intake_url(world, case_attr, client_attr)).status_code == 404


def test_the_other_partner_cannot_reach_the_intake_by_any_url(world, pat_intake, client_as):
    quinn = client_as("partner_b")
    # The workspace is not for clients at all; the portal page shows Quinn only Quinn's own (empty) form.
    assert quinn.get(_intake_url(world)).status_code == 403
    own = quinn.get(INTAKE)
    assert own.status_code == 200
    body = own.content.decode()
    assert PAT_WORDS not in body
    assert "Sam Sibling" not in body
    # The portal page takes no ids: a query string naming Pat changes nothing.
    sneaky = quinn.get(INTAKE, {"client": str(world.partner_a.public_id), "client_id": str(world.partner_a.public_id)})
    assert PAT_WORDS not in sneaky.content.decode()


# --- The portal page -----------------------------------------------------------------------------------


def test_the_intake_is_on_the_to_do_list_until_sent(world, client_as):
    browser = client_as("partner_a")
    assert INTAKE_LABEL in browser.get(HOME).content.decode()

    response = browser.post(INTAKE, _pat_answers())

    assert response.status_code == 303
    assert response["Location"] == HOME
    assert INTAKE_LABEL not in browser.get(HOME).content.decode()
    assert Intake.objects.get(client=world.partner_a).what_brings_you == PAT_WORDS
    # Quinn still has theirs to do.
    assert INTAKE_LABEL in client_as("partner_b").get(HOME).content.decode()


def test_the_form_comes_back_filled_in(world, pat_intake, client_as):
    response = client_as("partner_a").get(INTAKE)
    assert response.status_code == 200
    assert response.context["form"].initial["what_you_hope_for"] == PAT_HOPE
    assert PAT_HOPE in response.content.decode()


def test_a_mistake_keeps_what_was_typed_and_saves_nothing(world, client_as):
    response = client_as("partner_a").post(INTAKE, _pat_answers(emergency_phone=""))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Add a phone number for your emergency contact" in body
    assert "I miss how we used to talk." in body
    assert not Intake.objects.exists()


def test_an_empty_form_is_refused_with_a_plain_message(world, client_as):
    response = client_as("partner_a").post(INTAKE, {})
    assert response.status_code == 400
    assert "what brings you" in response.content.decode()
    assert not Intake.objects.exists()
