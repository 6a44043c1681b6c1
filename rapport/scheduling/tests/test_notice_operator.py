"""What an operator does about emails the worker will not finish: list, send again, record as sent."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from rapport.audit.models import AuditEvent
from rapport.scheduling.mail import STUCK_AFTER, notices_send_due
from rapport.scheduling.models import Notice, NoticeKind, NoticeState
from rapport.scheduling.tests.test_notifications import NOW, _book_couple, _prepare


@pytest.fixture
def failed_and_stuck(world):
    _prepare(world)
    _book_couple(world)
    confirmations = Notice.objects.filter(kind=NoticeKind.CONFIRMATION)
    failed = confirmations.get(recipient_email="pat@mail.example")
    stuck = confirmations.get(recipient_email="quinn@mail.example")
    long_ago = timezone.now() - STUCK_AFTER - timedelta(minutes=1)  # the command reads the real clock
    Notice.objects.filter(pk=failed.pk).update(state=NoticeState.FAILED, error="SMTPRecipientsRefused 550")
    Notice.objects.filter(pk=stuck.pk).update(state=NoticeState.CLAIMED, claimed_at=long_ago)
    return failed, stuck


def _run(*args: str) -> str:
    out = StringIO()
    call_command("notices", *args, stdout=out)
    return out.getvalue()


def test_the_list_names_failed_and_stuck_emails_and_nothing_else(failed_and_stuck):
    failed, stuck = failed_and_stuck
    listing = _run()
    assert f"{failed.public_id}  failed" in listing
    assert "SMTPRecipientsRefused 550" in listing
    assert f"{stuck.public_id}  claimed" in listing
    assert "claimed by a worker that never finished" in listing
    assert listing.count("\n  ") == 2  # the therapist's copy and the reminders are not listed


def test_a_failed_email_goes_again_on_the_next_run_and_the_change_is_audited(failed_and_stuck):
    failed, _ = failed_and_stuck
    assert "will be sent on the next run" in _run("--retry", str(failed.public_id))
    failed.refresh_from_db()
    assert failed.state == NoticeState.PENDING
    assert failed.error == ""
    assert AuditEvent.objects.filter(object_id=failed.public_id, object_type="scheduling.notice").exists()
    mail.outbox.clear()
    notices_send_due(now=NOW)
    assert [m.to for m in mail.outbox if "pat@mail.example" in m.to] == [["pat@mail.example"]]


def test_a_stuck_email_is_requeued_only_when_asked_to_and_can_be_recorded_as_sent(failed_and_stuck):
    failed, stuck = failed_and_stuck
    with pytest.raises(CommandError, match="--claimed-too"):
        _run("--retry", str(stuck.public_id))
    assert "recorded as sent" in _run("--mark-sent", str(stuck.public_id))
    stuck.refresh_from_db()
    assert stuck.state == NoticeState.SENT
    with pytest.raises(CommandError, match="only one being sent"):
        _run("--mark-sent", str(failed.public_id))


def test_one_refused_id_leaves_every_other_as_it_was(failed_and_stuck):
    failed, stuck = failed_and_stuck
    with pytest.raises(CommandError):
        _run("--retry", str(failed.public_id), str(stuck.public_id))
    failed.refresh_from_db()
    assert failed.state == NoticeState.FAILED
    with pytest.raises(CommandError, match="no such notice: not-an-id"):
        _run("--retry", str(failed.public_id), "not-an-id")
    failed.refresh_from_db()
    assert failed.state == NoticeState.FAILED
