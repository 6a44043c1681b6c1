"""The client's consent pages in the portal: signing, withdrawing item by item, and the history."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rapport.audit.models import Action, AuditEvent
from rapport.consents.models import ItemDecision, Signature
from rapport.consents.selectors import consent_state, decision_history, treatment_withdrawals_for
from rapport.consents.services import DEFAULT_ITEMS, ItemSpec, consent_defaults_create, consent_version_publish

CONSENTS = reverse("portal:consents")
OPTIONAL = "email_reminders"


@pytest.fixture
def v1(world):
    return consent_defaults_create(actor=None, practice=world.practice)


def _sign_url(version) -> str:
    return reverse("portal:consent_sign", kwargs={"version_id": version.public_id})


def _withdraw_url(key: str) -> str:
    return reverse("portal:consent_withdraw", kwargs={"item_key": key})


def _form(name: str, *, granted=None, shown=None) -> dict[str, object]:
    keys = [item.key for item in DEFAULT_ITEMS]
    return {"shown": shown if shown is not None else keys, "granted": granted if granted is not None else keys, "typed_name": name}


def _sign(browser, version, name: str, **form):
    return browser.post(_sign_url(version), _form(name, **form))


def _nothing_signed() -> bool:
    return not Signature.objects.exists() and not ItemDecision.objects.exists()


# --- Signing ------------------------------------------------------------------------------------------


def test_sign_page_shows_each_item_and_marks_the_required_one_in_words(world, client_as, v1):
    html = client_as("client").get(_sign_url(v1)).content.decode()
    assert v1.document.title in html
    assert html.count('type="checkbox"') == len(DEFAULT_ITEMS)
    assert html.count("<strong>Required:</strong>") == 1
    assert 'name="typed_name"' in html


def test_client_signs_and_sees_their_signature_and_choices(world, client_as, v1):
    browser = client_as("client")
    granted = [item.key for item in DEFAULT_ITEMS if item.key != "supervision"]

    response = _sign(browser, v1, "cora client", granted=granted)

    assert response.status_code == 302
    assert response.url == CONSENTS
    signature = Signature.objects.get(client=world.client)
    assert (signature.version, signature.typed_name, signature.content_hash) == (v1, "cora client", v1.content_hash)
    assert signature.signed_by == world.user("client")
    assert consent_state(world.client) == {item.key: item.key != "supervision" for item in DEFAULT_ITEMS}
    assert AuditEvent.objects.filter(action=Action.SIGN, object_id=signature.public_id, client_id=world.client.public_id).count() == 1
    html = browser.get(CONSENTS).content.decode()
    assert "Signed: " in html
    assert "version 1" in html
    assert "“cora client”" in html
    assert "You do not agree" in html  # supervision
    assert "Nothing to sign right now." in html


def test_signing_an_outdated_version_says_so_and_shows_the_new_one(world, client_as, v1):
    browser = client_as("client")
    browser.get(_sign_url(v1))
    items = [ItemSpec(key=i.key, text=i.text + " (Updated.)", required=i.required) for i in DEFAULT_ITEMS]
    v2 = consent_version_publish(actor=None, document=v1.document, content=v1.content, items=items, material=True)

    response = _sign(browser, v1, "Cora Client")

    assert response.status_code == 409
    html = response.content.decode()
    assert "This document changed since you opened it" in html
    assert _sign_url(v2) in html
    assert "(Updated.)" in html
    assert _nothing_signed()


def test_an_old_link_opens_the_current_version_with_a_note(world, client_as, v1):
    items = [ItemSpec(key=i.key, text=i.text + " (Updated.)", required=i.required) for i in DEFAULT_ITEMS]
    v2 = consent_version_publish(actor=None, document=v1.document, content=v1.content, items=items, material=True)
    html = client_as("client").get(_sign_url(v1)).content.decode()
    assert "This document changed since you opened it" in html
    assert _sign_url(v2) in html


@pytest.mark.parametrize(
    "tamper",
    [
        {"granted": ["treatment", "sell_my_data"]},
        {"shown": ["treatment"], "granted": ["treatment"]},
        {"shown": [*(item.key for item in DEFAULT_ITEMS), "sell_my_data"]},
    ],
    ids=["unknown-ticked", "items-left-out", "unknown-shown"],
)
def test_tampered_item_keys_are_refused_and_nothing_is_signed(world, client_as, v1, tamper):
    response = _sign(client_as("client"), v1, "Cora Client", **tamper)
    assert response.status_code == 400
    assert "do not match this consent form" in response.content.decode()
    assert _nothing_signed()


def test_signing_without_the_required_item_is_refused(world, client_as, v1):
    response = _sign(client_as("client"), v1, "Cora Client", granted=[OPTIONAL])
    assert response.status_code == 400
    html = response.content.decode()
    assert "needed before therapy can go ahead" in html
    # The client's ticks survive the refusal, so they need not tick again.
    assert f'value="{OPTIONAL}" id="item-{OPTIONAL}" checked' in html
    assert _nothing_signed()


def test_signing_with_someone_elses_name_is_refused(world, client_as, v1):
    response = _sign(client_as("client"), v1, "Pat Partner")
    assert response.status_code == 400
    assert "type your name as the practice has it" in response.content.decode()
    assert _nothing_signed()


def test_another_practices_version_is_not_found(world, client_as, v1):
    elsewhere = consent_defaults_create(actor=None, practice=world.other_practice)
    assert _sign(client_as("client"), elsewhere, "Cora Client").status_code == 404
    assert _nothing_signed()


# --- Withdrawing ------------------------------------------------------------------------------------


def test_withdrawing_an_optional_item_takes_effect_at_once_and_both_choices_stay_in_the_history(world, client_as, v1):
    browser = client_as("client")
    _sign(browser, v1, "Cora Client")
    confirm = browser.get(_withdraw_url(OPTIONAL)).content.decode()
    assert "Withdraw this consent" in confirm
    assert "therapist is told" not in confirm

    response = browser.post(_withdraw_url(OPTIONAL))

    assert response.status_code == 302
    assert response.url == CONSENTS
    assert consent_state(world.client)[OPTIONAL] is False
    assert [d.granted for d in decision_history(world.client) if d.item_key == OPTIONAL] == [False, True]
    html = browser.get(CONSENTS).content.decode()
    assert "Withdrawn, from now on" in html
    assert "withdrew consent: “Send me appointment reminders" in html
    assert "agreed: “Send me appointment reminders" in html


def test_withdrawing_twice_records_one_withdrawal(world, client_as, v1):
    browser = client_as("client")
    _sign(browser, v1, "Cora Client")
    browser.post(_withdraw_url(OPTIONAL))
    response = browser.post(_withdraw_url(OPTIONAL))
    assert response.status_code == 302
    assert ItemDecision.objects.filter(client=world.client, item_key=OPTIONAL, granted=False).count() == 1
    assert "already been withdrawn" in browser.get(CONSENTS).content.decode()


def test_withdrawing_treatment_warns_first_and_then_the_therapist_is_told(world, client_as, v1):
    browser = client_as("client")
    _sign(browser, v1, "Cora Client")
    confirm = browser.get(_withdraw_url("treatment")).content.decode()
    assert "your therapist is told" in confirm
    assert "sessions" in confirm

    browser.post(_withdraw_url("treatment"))

    assert [d.client for d in treatment_withdrawals_for(world.therapist_a)] == [world.client]
    assert "Theo Treating" in browser.get(CONSENTS).content.decode()


# --- Partners --------------------------------------------------------------------------------------


def test_partner_b_never_sees_partner_a_choices(world, client_as, v1):
    _sign(client_as("partner_a"), v1, "Pat Partner")
    client_as("partner_a").post(_withdraw_url("supervision"))
    browser_b = client_as("partner_b")

    html = browser_b.get(CONSENTS).content.decode()

    assert "Pat Partner" not in html
    assert "You have not signed anything yet." in html
    assert "No choices yet." in html
    assert browser_b.get(_withdraw_url(OPTIONAL)).status_code == 404


def test_partner_b_cannot_withdraw_partner_a_consent(world, client_as, v1):
    _sign(client_as("partner_a"), v1, "Pat Partner")
    _sign(client_as("partner_b"), v1, "Quinn Partner", granted=["treatment"])

    client_as("partner_b").post(_withdraw_url(OPTIONAL))

    assert consent_state(world.partner_a)[OPTIONAL] is True
    assert consent_state(world.partner_b)[OPTIONAL] is False
    assert ItemDecision.objects.filter(client=world.partner_a).count() == len(DEFAULT_ITEMS)


# --- Things to do -------------------------------------------------------------------------------------


def test_portal_home_asks_to_sign_until_signed(world, client_as, v1):
    browser = client_as("client")
    home = reverse("portal:home")
    html = browser.get(home).content.decode()
    assert f"Read and sign: {v1.document.title}" in html
    assert _sign_url(v1) in html

    _sign(browser, v1, "Cora Client")

    assert "Read and sign:" not in browser.get(home).content.decode()


def test_a_material_change_asks_again(world, client_as, v1):
    browser = client_as("client")
    _sign(browser, v1, "Cora Client")
    items = [ItemSpec(key=i.key, text=i.text + " (Updated.)", required=i.required) for i in DEFAULT_ITEMS]
    v2 = consent_version_publish(actor=None, document=v1.document, content=v1.content, items=items, material=True)
    assert _sign_url(v2) in browser.get(reverse("portal:home")).content.decode()


def test_the_consents_page_makes_as_many_queries_however_long_the_history(world, client_as, v1):
    browser = client_as("client")
    _sign(browser, v1, "Cora Client")
    # The first visit after signing also reads the flash message, which costs queries of its own.
    browser.get(CONSENTS)
    with CaptureQueriesContext(connection) as short:
        browser.get(CONSENTS)
    for key in ("supervision", "online_sessions", OPTIONAL):
        browser.post(_withdraw_url(key))
    _sign(browser, v1, "Cora Client")
    browser.get(CONSENTS)
    with CaptureQueriesContext(connection) as long:
        browser.get(CONSENTS)
    assert len(long) == len(short)
