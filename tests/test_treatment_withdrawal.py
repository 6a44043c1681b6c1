"""Withdrawing consent to treatment tells the therapist by email, and the case stays as it was."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from rapport.clients.models import Case, CaseStatus
from rapport.consents import tasks
from rapport.consents.models import ItemDecision
from rapport.consents.notifications import SUBJECT
from rapport.consents.services import SUPERVISION, TREATMENT, consent_withdraw
from tests.consenting import sign_all


def _withdraw_in_portal(client_as, persona: str, item_key: str, capture) -> None:
    with capture(execute=True):
        response = client_as(persona).post(reverse("portal:consent_withdraw", kwargs={"item_key": item_key}))
    assert response.status_code == 302


def _case_link(case: Case) -> str:
    return settings.SITE_URL + reverse("workspace:case_detail", kwargs={"case_id": case.public_id})


def test_withdrawing_treatment_emails_the_therapist_without_naming_the_client(world, client_as, django_capture_on_commit_callbacks):
    sign_all(world.client)

    _withdraw_in_portal(client_as, "client", TREATMENT, django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [world.user("therapist_a").email]
    assert email.subject == SUBJECT
    decided = ItemDecision.objects.filter(client=world.client, item_key=TREATMENT).order_by("-id").first()
    assert decided is not None
    assert not decided.granted
    day = decided.decided_at.astimezone(ZoneInfo(world.therapist_a.time_zone))
    assert f"{day:%A} {day.day} {day:%B %Y}" in email.body
    assert _case_link(world.individual_case) in email.body
    for revealing in (world.client.full_name, world.client.full_name.split()[0], world.client.email, "Fictional summary"):
        assert revealing not in email.subject
        assert revealing not in email.body


def test_the_case_is_neither_closed_nor_deleted(world, client_as, django_capture_on_commit_callbacks):
    sign_all(world.client)
    _withdraw_in_portal(client_as, "client", TREATMENT, django_capture_on_commit_callbacks)
    case = Case.objects.get(pk=world.individual_case.pk)
    assert case.status == CaseStatus.ACTIVE
    assert case.closed_at is None


def test_the_link_opens_the_case_for_the_therapist(world, client_as, django_capture_on_commit_callbacks):
    sign_all(world.client)
    _withdraw_in_portal(client_as, "client", TREATMENT, django_capture_on_commit_callbacks)
    path = reverse("workspace:case_detail", kwargs={"case_id": world.individual_case.public_id})
    assert path in mail.outbox[0].body
    assert client_as("therapist_a").get(path).status_code == 200


@pytest.mark.parametrize("item_key", ["email_reminders", SUPERVISION, "online_sessions", "anonymised_reports"])
def test_withdrawing_an_optional_item_emails_no_one(item_key, world, client_as, django_capture_on_commit_callbacks):
    sign_all(world.client)
    _withdraw_in_portal(client_as, "client", item_key, django_capture_on_commit_callbacks)
    assert not ItemDecision.objects.filter(client=world.client, item_key=item_key).order_by("-id").first().granted
    assert mail.outbox == []


def test_a_partner_withdrawing_points_the_therapist_at_the_couples_case(world, client_as, django_capture_on_commit_callbacks):
    sign_all(world.partner_a)
    _withdraw_in_portal(client_as, "partner_a", TREATMENT, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert _case_link(world.couple_case) in body
    assert "couples case" in body
    assert _case_link(world.individual_case) not in body
    for name in ("Pat Partner", "Quinn Partner", "Pat", "Quinn"):
        assert name not in body


def test_a_therapist_recording_it_in_the_room_is_not_emailed_about_it(world, django_capture_on_commit_callbacks):
    sign_all(world.client)
    with django_capture_on_commit_callbacks(execute=True):
        withdrawal = consent_withdraw(actor=world.user("therapist_a"), client=world.client, item_key=TREATMENT)
    assert withdrawal.therapist_must_be_told
    assert mail.outbox == []


def test_a_closed_case_is_not_emailed_about(world, client_as, django_capture_on_commit_callbacks):
    sign_all(world.client)
    Case.objects.filter(pk=world.individual_case.pk).update(status=CaseStatus.CLOSED)
    _withdraw_in_portal(client_as, "client", TREATMENT, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_no_email_leaves_before_the_withdrawal_commits(world, django_capture_on_commit_callbacks):
    sign_all(world.client)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        consent_withdraw(actor=world.user("client"), client=world.client, item_key=TREATMENT)
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


def test_a_queue_that_cannot_take_the_task_does_not_undo_the_withdrawal(world, client_as, django_capture_on_commit_callbacks, monkeypatch):
    def broken(decision_id: int) -> int:
        raise ConnectionError("queue down")

    monkeypatch.setattr(tasks, "treatment_withdrawal_notify", broken)
    sign_all(world.client)
    _withdraw_in_portal(client_as, "client", TREATMENT, django_capture_on_commit_callbacks)
    assert not ItemDecision.objects.filter(client=world.client, item_key=TREATMENT).order_by("-id").first().granted
    assert mail.outbox == []
