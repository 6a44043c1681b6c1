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


# --- The practice admin ------------------------------------------------------------------------


def _document_url(world: World, suffix: str = "") -> str:
    return f"/workspace/consents/{world.v1.document.public_id}/{suffix}"  # type: ignore[attr-defined]


def _form_data(content: str, rows: list[tuple[str, str, bool]], *, material: bool = True) -> dict[str, str]:
    data = {"content": content, "items-TOTAL_FORMS": str(len(rows) + 2), "items-INITIAL_FORMS": "0"}
    if material:
        data["material"] = "on"
    for n, (key, text, required) in enumerate(rows):
        data[f"items-{n}-key"], data[f"items-{n}-text"] = key, text
        if required:
            data[f"items-{n}-required"] = "on"
    return data


def _default_rows() -> list[tuple[str, str, bool]]:
    return [(i.key, i.text, i.required) for i in DEFAULT_ITEMS]


def test_the_admin_lists_the_practices_forms_with_their_current_version_and_signatures(consents, client_as, django_assert_max_num_queries):
    _sign(consents, consents.client, "client")
    _sign(consents, consents.partner_a, "partner_a")
    admin = client_as("admin")
    with django_assert_max_num_queries(12):
        page = admin.get("/workspace/consents/")
    assert page.status_code == 200
    (document,) = page.context["documents"]
    assert document.current.number == 1
    assert document.signature_count == 2
    assert "Consent to therapy" in page.content.decode()
    assert 'href="/workspace/consents/"' in page.content.decode()  # the nav link


def test_the_document_page_shows_each_version_and_its_items(consents, client_as):
    page = client_as("admin").get(_document_url(consents)).content.decode()
    assert "Version 1" in page
    for item in DEFAULT_ITEMS:
        assert item.key in page


def test_the_new_version_form_starts_from_the_current_version_with_blank_rows(consents, client_as):
    page = client_as("admin").get(_document_url(consents, "new-version/"))
    assert page.status_code == 200
    items = page.context["items"]
    assert len(items.forms) == len(DEFAULT_ITEMS) + 2
    assert items.forms[0].initial == {"key": "treatment", "text": DEFAULT_ITEMS[0].text, "required": True}
    assert page.context["form"].initial["content"] == consents.v1.content
    assert page.context["form"].initial["material"] is True


def test_the_admin_publishes_a_new_version_with_an_added_item(consents, client_as):
    rows = [*_default_rows(), ("research", "Fictional: my answers may be used in research, without my name.", False)]
    response = client_as("admin").post(_document_url(consents, "new-version/"), _form_data(consents.v1.content, rows, material=False))
    assert response.status_code == 303
    assert response["Location"] == _document_url(consents)
    newest = consents.v1.document.versions.order_by("-number").first()
    assert newest.number == 2
    assert newest.material is False
    assert [i.key for i in newest.items.order_by("position")][-1] == "research"


def test_publishing_the_same_text_again_is_refused_and_saves_nothing(consents, client_as):
    response = client_as("admin").post(_document_url(consents, "new-version/"), _form_data(consents.v1.content, _default_rows()))
    assert response.status_code == 400
    assert "same as the current one" in response.content.decode()
    assert consents.v1.document.versions.count() == 1


def test_a_malformed_key_is_refused_and_what_was_typed_is_kept(consents, client_as):
    typed = "Fictional new wording the admin took time over."
    rows = [*_default_rows(), ("Bad Key!", "Fictional item text.", False)]
    response = client_as("admin").post(_document_url(consents, "new-version/"), _form_data(typed, rows))
    assert response.status_code == 400
    page = response.content.decode()
    assert "lower-case letters, digits and underscores: Bad Key!" in page
    assert typed in page
    assert "Fictional item text." in page
    assert consents.v1.document.versions.count() == 1


def test_a_half_filled_row_is_refused(consents, client_as):
    rows = [*_default_rows(), ("research", "", False)]
    response = client_as("admin").post(_document_url(consents, "new-version/"), _form_data("Changed fictional text.", rows))
    assert response.status_code == 400
    assert "needs both its key and its text" in response.content.decode()
    assert consents.v1.document.versions.count() == 1


def test_an_admin_cannot_open_another_practices_form(consents, client_as):
    other = consent_defaults_create(actor=None, practice=consents.other_practice).document
    admin = client_as("admin")
    assert admin.get(f"/workspace/consents/{other.public_id}/").status_code == 404
    assert admin.post(f"/workspace/consents/{other.public_id}/new-version/", _form_data("x", _default_rows())).status_code == 404
    assert other.versions.count() == 1


@pytest.mark.parametrize("persona", ["therapist_a", "supervisor", "client"])
def test_only_the_admin_manages_consent_forms(consents, client_as, persona):
    browser = client_as(persona)
    assert browser.get("/workspace/consents/").status_code == 403
    assert browser.post(_document_url(consents, "new-version/"), _form_data("x", _default_rows())).status_code == 403
    assert consents.v1.document.versions.count() == 1
