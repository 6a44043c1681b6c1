"""Risk alerts in the workspace: the home page's list, the alert page (an audited read), acknowledging,
and the escalated alert reaching the on-call therapist or the practice admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rapport.audit.models import AuditEvent
from rapport.measures.models import RiskAlert
from rapport.measures.services import administrations_for_appointment, answers_save
from rapport.measures.tasks import alerts_escalate_task
from rapport.practice.models import Practice
from tests.checkins import CRISIS, NOW, PHQ9_NO_RISK, PHQ9_WITH_RISK, book, phq9_of, prepare, risk_alert
from tests.personas import World, build_world

ITEM_9 = "Thoughts that you would be better off dead or of hurting yourself in some way"


@pytest.fixture
def ready(world: World, settings) -> World:
    settings.SITE_URL = "https://harbour.example"
    return prepare(world)


def _page(alert: RiskAlert) -> str:
    return reverse("workspace:alert_detail", kwargs={"alert_id": alert.public_id})


def test_the_therapists_home_lists_the_open_alert_and_nobody_elses_does(ready, client_as):
    alert = risk_alert(ready)
    home = client_as("therapist_a").get(reverse("workspace:home")).content.decode()
    assert "Check-ins that need attention now" in home
    assert _page(alert) in home
    assert "Cora Client: Patient Health Questionnaire-9" in home
    for persona in ("therapist_b", "admin", "supervisor"):
        other = client_as(persona).get(reverse("workspace:home")).content.decode()
        assert _page(alert) not in other
        assert "Check-ins that need attention now" not in other


def test_the_alert_page_shows_the_evidence_and_crisis_resources_and_records_the_read(ready, client_as):
    alert = risk_alert(ready)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    response = client_as("therapist_a").get(_page(alert))
    page = response.content.decode()
    assert response.status_code == 200
    assert ITEM_9 in page
    assert "More than half the days" in page
    assert CRISIS[0]["name"] in page
    assert CRISIS[0]["contact"] in page
    assert "cora@mail.example" in page
    assert "Not acknowledged yet" in page
    events = list(AuditEvent.objects.filter(id__gt=mark, action="view"))
    assert [(e.object_type, e.client_id, e.actor_id) for e in events] == [
        ("measures.administration", ready.client.public_id, ready.user("therapist_a").pk)
    ]
    assert "answers" in events[0].detail["fields"]


def test_an_unanswered_risk_question_is_shown_as_unknown_risk(ready, client_as):
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    without_item_9 = {key: value for key, value in PHQ9_NO_RISK.items() if key != "phq9_9"}
    result = answers_save(administration=phq9_of(appointment), answers=without_item_9, final=True, actor=ready.user("client"), now=NOW)
    assert result.alert is not None
    page = client_as("therapist_a").get(_page(result.alert)).content.decode()
    assert "Left unanswered" in page
    assert "Treat it as unknown risk and ask them" in page


def test_acknowledging_from_the_page_takes_it_off_the_home_page(ready, client_as):
    alert = risk_alert(ready)
    browser = client_as("therapist_a")
    response = browser.post(reverse("workspace:alert_acknowledge", kwargs={"alert_id": alert.public_id}))
    assert response.status_code == 303
    assert response["Location"] == _page(alert)
    page = browser.get(_page(alert)).content.decode()
    assert "Acknowledged by Theo Treating" in page
    assert "Acknowledge:" not in page
    assert _page(alert) not in browser.get(reverse("workspace:home")).content.decode()
    again = browser.post(reverse("workspace:alert_acknowledge", kwargs={"alert_id": alert.public_id}), follow=True)
    assert "already acknowledged" in again.content.decode()


def test_an_alert_escalated_to_the_admins_reaches_their_home_and_page(ready, client_as, monkeypatch):
    alert = risk_alert(ready)
    admin = client_as("admin")
    assert admin.get(_page(alert)).status_code == 403
    monkeypatch.setattr(timezone, "now", lambda: NOW + timedelta(hours=1))
    alerts_escalate_task()
    home = admin.get(reverse("workspace:home")).content.decode()
    assert _page(alert) in home
    assert "Escalated" in home
    page = admin.get(_page(alert))
    assert page.status_code == 200
    assert "to the practice admins" in page.content.decode()
    assert client_as("supervisor").get(_page(alert)).status_code == 403
    assert client_as("therapist_b").get(_page(alert)).status_code == 404
    # The treating therapist still sees it, escalated.
    assert "Escalated" in client_as("therapist_a").get(reverse("workspace:home")).content.decode()


def test_an_alert_escalated_to_the_on_call_therapist_is_theirs_and_not_the_admins(ready, client_as, monkeypatch):
    Practice.objects.filter(pk=ready.practice.pk).update(on_call_therapist=ready.therapist_b)
    alert = risk_alert(ready)
    assert client_as("therapist_b").get(_page(alert)).status_code == 404
    monkeypatch.setattr(timezone, "now", lambda: NOW + timedelta(hours=1))
    alerts_escalate_task()
    bea = client_as("therapist_b")
    assert _page(alert) in bea.get(reverse("workspace:home")).content.decode()
    assert bea.get(_page(alert)).status_code == 200
    assert client_as("admin").get(_page(alert)).status_code == 403
    response = bea.post(reverse("workspace:alert_acknowledge", kwargs={"alert_id": alert.public_id}))
    assert response.status_code == 303
    assert RiskAlert.objects.get().acknowledged_by == ready.user("therapist_b")


@pytest.mark.django_db(transaction=True)
def test_the_whole_path_with_huey_in_immediate_mode(settings, monkeypatch):
    """A risk answer commits; the therapist's email goes at once; nobody answers; the periodic task
    escalates to the admin once; the admin opens the alert and acknowledges it."""
    settings.SITE_URL = "https://harbour.example"
    assert settings.HUEY["immediate"] is True
    world = prepare(build_world())
    appointment = book(world)
    administrations_for_appointment(appointment, now=NOW)
    mail.outbox.clear()  # the booking's own confirmations
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    answers_save(administration=phq9_of(appointment), answers=PHQ9_WITH_RISK, final=True, actor=world.user("client"))
    alert = RiskAlert.objects.get()
    assert [m.to for m in mail.outbox] == [["therapist.a@harbour.example"]]

    monkeypatch.setattr(timezone, "now", lambda: NOW + timedelta(minutes=59))
    alerts_escalate_task()
    assert len(mail.outbox) == 1
    monkeypatch.setattr(timezone, "now", lambda: NOW + timedelta(minutes=61))
    alerts_escalate_task()
    alerts_escalate_task()
    assert [m.to for m in mail.outbox] == [["therapist.a@harbour.example"], ["admin@harbour.example"]]

    browser = Client()
    browser.force_login(world.user("admin"), backend="django.contrib.auth.backends.ModelBackend")
    assert browser.get(_page(alert)).status_code == 200
    browser.post(reverse("workspace:alert_acknowledge", kwargs={"alert_id": alert.public_id}))
    stored = RiskAlert.objects.get()
    assert stored.acknowledged_by == world.user("admin")
    assert stored.acknowledged_at == NOW + timedelta(minutes=61)
