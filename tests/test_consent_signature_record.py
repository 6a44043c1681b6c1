"""A signature shown back to the client and downloadable as a PDF, by them and by their therapist."""

from __future__ import annotations

import urllib.request

import pytest
from django.urls import reverse

from rapport.audit.models import Action, AuditEvent
from rapport.consents.services import DEFAULT_ITEMS, consent_defaults_create, consent_sign
from rapport.core.pdf import ExternalResourceRefused, html_to_pdf, refusing_fetcher


def _sign(client, *, declined=()):
    version = consent_defaults_create(actor=None, practice=client.practice)
    choices = {item.key: item.key not in declined for item in version.items.all()}
    return consent_sign(actor=client.user, client=client, version=version, typed_name=client.full_name.lower(), choices=choices)


def _page(signature) -> str:
    return reverse("portal:consent_signature", kwargs={"signature_id": signature.public_id})


def _pdf(signature) -> str:
    return reverse("portal:consent_signature_pdf", kwargs={"signature_id": signature.public_id})


def _case_pdf(case, signature) -> str:
    return reverse("workspace:case_signature_pdf", kwargs={"case_id": case.public_id, "signature_id": signature.public_id})


def _last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_the_client_sees_the_version_hash_each_choice_name_time_and_signer(world, client_as):
    signature = _sign(world.client, declined=("supervision",))
    html = client_as("client").get(_page(signature)).content.decode()
    assert "Consent to therapy, and how we work with you" in html
    assert "version 1" in html
    assert signature.content_hash in html
    assert "cora client" in html
    assert "(the client), in the client portal" in html
    assert html.count("You agreed") == len(DEFAULT_ITEMS) - 1
    assert html.count("You did not agree") == 1
    # In the client's own zone (the personas' clients default to the practice's, Toronto).
    local = signature.signed_at.astimezone(__import__("zoneinfo").ZoneInfo(world.client.time_zone))
    assert local.strftime("%H:%M") in html
    assert world.client.time_zone in html
    assert _pdf(signature) in html


def test_the_consents_page_links_each_signature(world, client_as):
    signature = _sign(world.client)
    html = client_as("client").get(reverse("portal:consents")).content.decode()
    assert _page(signature) in html
    assert _pdf(signature) in html


def test_the_client_downloads_their_signature_as_a_pdf_and_it_is_audited(world, client_as):
    signature = _sign(world.client)
    mark = _last_id()
    response = client_as("client").get(_pdf(signature))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "attachment;" in response["Content-Disposition"]
    event = AuditEvent.objects.get(id__gt=mark, action=Action.EXPORT)
    assert (event.object_type, str(event.object_id), str(event.client_id)) == (
        "consents.signature",
        str(signature.public_id),
        str(world.client.public_id),
    )


@pytest.mark.parametrize("view", [_page, _pdf])
def test_the_other_partners_signature_is_not_found(world, client_as, view):
    theirs = _sign(world.partner_b)
    mark = _last_id()
    assert client_as("partner_a").get(view(theirs)).status_code == 404
    assert client_as("client").get(view(theirs)).status_code == 404
    assert client_as("partner_b").get(view(theirs)).status_code == 200
    exports = AuditEvent.objects.filter(id__gt=mark, action=Action.EXPORT)
    assert all(e.actor_id == world.user("partner_b").pk for e in exports)


def test_the_treating_therapist_downloads_each_partners_signature_from_the_case(world, client_as):
    pat, quinn = _sign(world.partner_a), _sign(world.partner_b)
    browser = client_as("therapist_a")
    page = browser.get(reverse("workspace:case_detail", kwargs={"case_id": world.couple_case.public_id})).content.decode()
    assert _case_pdf(world.couple_case, pat) in page
    assert _case_pdf(world.couple_case, quinn) in page
    mark = _last_id()

    response = browser.get(_case_pdf(world.couple_case, quinn))

    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    event = AuditEvent.objects.get(id__gt=mark)
    assert (event.action, event.actor_id, str(event.client_id)) == (
        Action.EXPORT,
        world.user("therapist_a").pk,
        str(world.partner_b.public_id),
    )


@pytest.mark.parametrize(("persona", "status"), [("therapist_b", 404), ("supervisor", 403), ("admin", 403), ("client", 403)])
def test_no_one_else_downloads_a_signature_from_the_case(world, client_as, persona, status):
    signature = _sign(world.client)
    mark = _last_id()
    assert client_as(persona).get(_case_pdf(world.individual_case, signature)).status_code == status
    assert not AuditEvent.objects.filter(id__gt=mark, action=Action.EXPORT).exists()


def test_a_signature_from_another_case_is_not_found_through_this_one(world, client_as):
    signature = _sign(world.client)
    assert client_as("therapist_a").get(_case_pdf(world.couple_case, signature)).status_code == 404


# --- PDFs never reach out ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://example.com/logo.png", "https://example.com/a.css", "file:///etc/passwd", "data:text/plain,hi"])
def test_the_pdf_fetcher_refuses_every_url(url):
    with pytest.raises(ExternalResourceRefused):
        refusing_fetcher()(url)


def test_a_pdf_with_remote_images_and_styles_renders_without_opening_any(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the PDF renderer tried to open a URL")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    html = (
        '<html><head><link rel="stylesheet" href="http://example.com/a.css"><style>@import url("https://example.com/b.css");</style></head>'
        '<body><p>Fictional text</p><img src="http://example.com/x.png"><img src="file:///etc/hostname"></body></html>'
    )
    assert html_to_pdf(html).startswith(b"%PDF")
