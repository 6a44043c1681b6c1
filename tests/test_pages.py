from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from rapport.audit.models import AuditEvent
from rapport.clients.models import Case


def test_every_response_carries_the_security_headers(client_as):
    response = client_as("anonymous").get("/")
    csp = response["Content-Security-Policy"]
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9+/=_-]{16,}'", csp)
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert f'nonce="{nonce}"'.encode() in response.content  # the page's scripts carry the nonce


def test_signed_in_pages_are_never_cached(client_as):
    assert client_as("client").get("/portal/")["Cache-Control"] == "no-store"
    assert "no-store" not in client_as("anonymous").get("/").get("Cache-Control", "")


def test_the_summary_edit_returns_a_fragment_to_htmx_and_a_page_otherwise(client_as, world):
    therapist = client_as("therapist_a")
    url = f"/workspace/cases/{world.individual_case.public_id}/summary/"
    fragment = therapist.get(url + "?edit=1", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert not fragment.content.lstrip().startswith(b"<!DOCTYPE")
    assert b"<textarea" in fragment.content
    page = therapist.get(url + "?edit=1")
    assert page.content.lstrip().startswith(b"<!DOCTYPE")
    assert page["Vary"].count("HX-Request") == 1


def test_saving_the_summary_stores_it_encrypted_and_audits_one_update(client_as, world):
    case = world.individual_case
    before = AuditEvent.objects.filter(action="update", object_id=case.public_id).count()
    response = client_as("therapist_a").post(f"/workspace/cases/{case.public_id}/summary/", {"summary": "Fictional: sleeping better."})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).summary == "Fictional: sleeping better."
    assert AuditEvent.objects.filter(action="update", object_id=case.public_id).count() == before + 1


def test_a_client_never_sees_the_therapists_summary(client_as, world):
    response = client_as("client").get(f"/portal/cases/{world.individual_case.public_id}/")
    assert response.status_code == 200
    assert b"Fictional summary for Cora" not in response.content


def test_the_public_site_without_a_practice_says_so(db, client):
    response = client.get("/")
    assert response.status_code == 503
    assert b"no practice yet" in response.content


def test_healthz_answers(db, client):
    assert client.get("/healthz").content == b"ok"


def test_the_audit_trail_filter_takes_only_known_actions(client_as, world):
    admin = client_as("admin")
    assert admin.get("/workspace/audit/?action=login").status_code == 200
    response = admin.get("/workspace/audit/?action=id;DROP TABLE")
    assert response.status_code == 200  # an unknown filter is ignored, never passed to the query


@pytest.mark.django_db
def test_demo_seed_builds_the_fictional_practice_once():
    out = StringIO()
    call_command("demo_seed", stdout=out)
    assert "Demo practice created." in out.getvalue()
    assert Case.objects.filter(kind="couple").count() == 2
    call_command("demo_seed", stdout=out)
    assert "already exists" in out.getvalue()
    assert Case.objects.count() == 5
    # Booking history a newcomer can look at: held, missed and late-cancelled sessions, held
    # consultations that are not client records, one booked from the site, blocks, an exception.
    from rapport.scheduling.models import Appointment, ConsultationException, Notice, TimeBlock

    statuses = set(Appointment.objects.values_list("status", flat=True))
    assert {"booked", "completed", "no_show", "cancelled"} <= statuses
    assert Appointment.objects.filter(status="cancelled", late_cancellation=True).exists()
    from_site = Appointment.objects.get(contact_email="noor.aziz@mail.example")
    assert from_site.case is None
    assert from_site.privacy_accepted_at is not None
    assert from_site.participants.get().time_zone == "America/Vancouver"
    assert not Case.objects.filter(members__client__email="marcus.lee@mail.example").exists()
    assert TimeBlock.objects.exists()
    assert ConsultationException.objects.filter(email="marcus.lee@mail.example").exists()
    # The past's emails are recorded as sent; only future reminders wait.
    assert not Notice.objects.filter(state="pending", due_at__lte=timezone.now()).exists()
    assert Notice.objects.filter(state="pending", kind="reminder").exists()
    # Consents with a history: three clients signed, and Casey later withdrew email reminders.
    from rapport.clients.models import Client
    from rapport.consents.selectors import consent_granted, decision_history

    signed = set(Client.objects.filter(consent_signatures__isnull=False).values_list("full_name", flat=True))
    assert signed == {"Jordan Pike", "Alex Moreau", "Casey Moreau"}
    casey = Client.objects.get(full_name="Casey Moreau")
    assert not consent_granted(casey, "email_reminders")
    assert consent_granted(casey, "treatment")
    assert decision_history(casey).first().item_key == "email_reminders"  # type: ignore[union-attr]
    call_command("audit_verify", stdout=out)


@pytest.mark.django_db
def test_demo_seed_refuses_production():
    with override_settings(PRODUCTION=True), pytest.raises(CommandError, match="refuses to run"):
        call_command("demo_seed", stdout=StringIO())


def test_clinical_text_never_reaches_the_logs(client_as, world, caplog):
    import logging

    marker = "Fictional: the marker phrase quiet tide"
    with caplog.at_level(logging.DEBUG):
        therapist = client_as("therapist_a")
        therapist.post(f"/workspace/cases/{world.individual_case.public_id}/summary/", {"summary": marker})
        therapist.get(f"/workspace/cases/{world.individual_case.public_id}/")
        therapist.post(f"/workspace/cases/{world.individual_case.public_id}/summary/", {"summary": "x" * 20_001})  # invalid: too long
    assert "quiet tide" not in caplog.text
    assert "x" * 100 not in caplog.text
