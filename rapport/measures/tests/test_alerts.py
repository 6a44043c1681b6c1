"""The risk path on the real databases: alert, email, acknowledgement and escalation, exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connections, transaction

from rapport.audit.models import AuditEvent
from rapport.measures.alerts import alert_acknowledge, alert_notify, alerts_escalate
from rapport.measures.models import Administration, AdministrationStatus, AlertKind, RiskAlert
from rapport.measures.services import administrations_for_appointment, answers_save
from rapport.practice.models import Practice
from tests.checkins import NOW, PHQ9_NO_RISK, PHQ9_WITH_RISK, book, phq9_of, prepare, risk_alert
from tests.personas import World, build_world

SITE_URL = "https://harbour.example"
# Nothing of the check-in may travel by email: the client's names and address, the instrument, the
# question, the answer, the band.
CLINICAL = (
    "Cora",
    "Client",
    "cora@mail.example",
    "PHQ",
    "Patient Health",
    "better off dead",
    "hurting yourself",
    "More than half the days",
    "moderate",
    "Moderate",
    "item 9",
    "score",
)


@pytest.fixture
def ready(world: World, settings) -> World:
    settings.SITE_URL = SITE_URL
    return prepare(world)


@pytest.fixture
def phq9(ready: World) -> Administration:
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    return phq9_of(appointment)


def _no_clinical_content(message: EmailMessage) -> None:
    text = f"{message.subject}\n{message.body}"
    leaked = [word for word in CLINICAL if word in text]
    assert leaked == [], f"the email carries {leaked}"


def _audit_mark() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- Raising the alert ---------------------------------------------------------------------------------


def test_a_risk_answer_raises_an_alert_for_the_cases_therapist(ready, phq9):
    result = answers_save(administration=phq9, answers=PHQ9_WITH_RISK, final=True, actor=ready.user("client"), now=NOW)
    alert = RiskAlert.objects.get()
    assert result.alert == alert
    assert result.show_crisis_resources is True
    assert (alert.kind, alert.client, alert.case, alert.therapist, alert.raised_at) == (
        AlertKind.RISK_ANSWER,
        ready.client,
        ready.individual_case,
        ready.therapist_a,
        NOW,
    )
    assert Administration.objects.get(pk=phq9.pk).risk == ["phq9_9"]


def test_the_alert_is_part_of_the_answers_transaction(ready, phq9):
    class Boom(Exception):
        pass

    def save_then_fail() -> None:
        with transaction.atomic():
            answers_save(administration=phq9, answers=PHQ9_WITH_RISK, final=True, actor=ready.user("client"), now=NOW)
            assert RiskAlert.objects.exists()
            raise Boom

    with pytest.raises(Boom):
        save_then_fail()
    assert not RiskAlert.objects.exists()
    assert Administration.objects.get(pk=phq9.pk).status == AdministrationStatus.PENDING


def test_a_risk_answer_saved_part_way_raises_the_alert_at_once_and_only_once(ready, phq9):
    cora = ready.user("client")
    first = answers_save(administration=phq9, answers={"phq9_1": 1, "phq9_9": 1}, final=False, actor=cora, now=NOW)
    assert first.alert is not None
    # Changing the answer back does not withdraw the alert: a person still looks.
    final = answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, actor=cora, now=NOW)
    assert final.alert == first.alert
    assert RiskAlert.objects.count() == 1


def test_a_risk_question_left_unanswered_raises_an_alert_when_the_check_in_is_sent(ready, phq9):
    cora = ready.user("client")
    without_item_9 = {key: value for key, value in PHQ9_NO_RISK.items() if key != "phq9_9"}
    partial = answers_save(administration=phq9, answers=without_item_9, final=False, actor=cora, now=NOW)
    assert partial.alert is None
    final = answers_save(administration=phq9, answers={}, final=True, actor=cora, now=NOW)
    assert final.alert is not None
    assert final.alert.kind == AlertKind.RISK_UNANSWERED
    assert final.show_crisis_resources is False
    assert Administration.objects.get(pk=phq9.pk).risk_unanswered == ["phq9_9"]


def test_no_alert_without_a_risk_answer(ready, phq9):
    result = answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, actor=ready.user("client"), now=NOW)
    assert result.alert is None
    assert not RiskAlert.objects.exists()


# --- Telling the therapist -----------------------------------------------------------------------------


def test_the_therapist_is_emailed_once_the_answer_commits_and_the_email_says_nothing_clinical(
    ready, phq9, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        answers_save(administration=phq9, answers=PHQ9_WITH_RISK, final=True, actor=ready.user("client"), now=NOW)
        assert mail.outbox == []
    alert = RiskAlert.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["therapist.a@harbour.example"]
    assert "A client's check-in needs your attention now. Sign in to see it" in message.body
    assert f"{SITE_URL}/workspace/alerts/{alert.public_id}/" in message.body
    _no_clinical_content(message)
    assert RiskAlert.objects.get().notified_at is not None


def test_the_therapists_email_goes_out_at_most_once(ready):
    alert = risk_alert(ready)
    assert alert_notify(str(alert.public_id)) is True
    assert alert_notify(str(alert.public_id)) is False
    assert len(mail.outbox) == 1


def test_a_failed_send_gives_the_claim_back_for_the_retry(ready, monkeypatch):
    alert = risk_alert(ready)

    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("fictional: the mail server is down")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    with pytest.raises(ConnectionRefusedError):
        alert_notify(str(alert.public_id))
    assert RiskAlert.objects.get().notified_at is None
    monkeypatch.undo()
    assert alert_notify(str(alert.public_id)) is True


# --- Acknowledging -------------------------------------------------------------------------------------


def test_the_therapist_acknowledges_once_and_again_changes_nothing(ready):
    alert = risk_alert(ready)
    theo = ready.user("therapist_a")
    mark = _audit_mark()
    alert_acknowledge(actor=theo, alert=alert, now=NOW + timedelta(minutes=10))
    again = alert_acknowledge(actor=theo, alert=alert, now=NOW + timedelta(minutes=20))
    assert (again.acknowledged_at, again.acknowledged_by) == (NOW + timedelta(minutes=10), theo)
    events = list(AuditEvent.objects.filter(id__gt=mark).values_list("action", "object_type", "detail"))
    assert events == [("update", "measures.riskalert", {"fields": ["acknowledged"]})]


@pytest.mark.parametrize("persona", ["therapist_b", "admin", "supervisor", "client"])
def test_nobody_else_may_acknowledge_before_it_is_escalated(ready, persona):
    alert = risk_alert(ready)
    with pytest.raises(PermissionError):
        alert_acknowledge(actor=ready.user(persona), alert=alert)
    assert RiskAlert.objects.get().acknowledged_at is None


# --- Escalating ----------------------------------------------------------------------------------------


def test_an_unacknowledged_alert_goes_to_the_admins_when_the_practices_time_is_up_and_only_once(ready):
    alert = risk_alert(ready)
    assert ready.practice.risk_escalation_minutes == 60
    assert alerts_escalate(NOW + timedelta(minutes=59, seconds=59)) == 0
    assert RiskAlert.objects.get().escalated_at is None
    assert alerts_escalate(NOW + timedelta(minutes=60)) == 1
    assert alerts_escalate(NOW + timedelta(minutes=61)) == 0
    stored = RiskAlert.objects.get()
    assert (stored.escalated_at, stored.escalated_to) == (NOW + timedelta(minutes=60), None)
    escalations = [m for m in mail.outbox if m.to == ["admin@harbour.example"]]
    assert len(escalations) == 1
    assert f"/workspace/alerts/{alert.public_id}/" in escalations[0].body
    assert "within 60 minutes" in escalations[0].body
    _no_clinical_content(escalations[0])
    # Now the admin may acknowledge it.
    alert_acknowledge(actor=ready.user("admin"), alert=stored)


def test_the_practice_sets_the_time_to_escalation(ready):
    Practice.objects.filter(pk=ready.practice.pk).update(risk_escalation_minutes=5)
    risk_alert(ready)
    assert alerts_escalate(NOW + timedelta(minutes=4)) == 0
    assert alerts_escalate(NOW + timedelta(minutes=5)) == 1


def test_an_on_call_therapist_takes_the_escalation_instead_of_the_admins(ready):
    Practice.objects.filter(pk=ready.practice.pk).update(on_call_therapist=ready.therapist_b)
    alert = risk_alert(ready)
    with pytest.raises(PermissionError):
        alert_acknowledge(actor=ready.user("therapist_b"), alert=alert)
    assert alerts_escalate(NOW + timedelta(hours=1)) == 1
    stored = RiskAlert.objects.get()
    assert stored.escalated_to == ready.user("therapist_b")
    assert [m.to for m in mail.outbox if m.subject.endswith("not yet acknowledged")] == [["therapist.b@harbour.example"]]
    with pytest.raises(PermissionError):
        alert_acknowledge(actor=ready.user("admin"), alert=stored)
    alert_acknowledge(actor=ready.user("therapist_b"), alert=stored)


def test_the_on_call_therapist_who_is_the_clients_own_goes_to_the_admins(ready):
    Practice.objects.filter(pk=ready.practice.pk).update(on_call_therapist=ready.therapist_a)
    risk_alert(ready)
    alerts_escalate(NOW + timedelta(hours=1))
    assert RiskAlert.objects.get().escalated_to is None
    assert [m.to for m in mail.outbox if m.subject.endswith("not yet acknowledged")] == [["admin@harbour.example"]]


def test_an_acknowledged_alert_is_never_escalated(ready):
    alert = risk_alert(ready)
    alert_acknowledge(actor=ready.user("therapist_a"), alert=alert, now=NOW + timedelta(minutes=30))
    assert alerts_escalate(NOW + timedelta(hours=5)) == 0
    assert RiskAlert.objects.get().escalated_at is None
    assert not [m for m in mail.outbox if m.subject.endswith("not yet acknowledged")]


@pytest.mark.django_db(transaction=True)
def test_racing_sweeps_escalate_each_alert_exactly_once(settings):
    settings.SITE_URL = SITE_URL
    world = prepare(build_world())
    risk_alert(world)
    race_now = NOW + timedelta(hours=2)
    barrier = threading.Barrier(4)
    errors: list[str] = []
    counts: list[int] = []

    def sweep() -> None:
        try:
            barrier.wait()
            counts.append(alerts_escalate(race_now))
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(counts) == [0, 0, 0, 1]
    assert len([m for m in mail.outbox if m.subject.endswith("not yet acknowledged")]) == 1
    assert AuditEvent.objects.filter(object_type="measures.riskalert", detail__fields=["escalated"]).count() == 1
