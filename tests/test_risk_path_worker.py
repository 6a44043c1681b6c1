"""The risk path with a real Huey worker: a separate ``manage.py run_huey`` process, Redis as the
queue, a real SMTP server on loopback. The other risk-path tests run Huey in immediate mode, inside
the test; this one proves the same path holds when the work crosses a process and a queue.

It needs Redis (``RAPPORT_TEST_REDIS_URL``, default ``redis://127.0.0.1:6379/0``) and fails, never
skips, when Redis does not answer: ``make services`` starts it. Its queue has a name of its own, so
two test runs sharing one Redis never take each other's tasks.

The worker reads the test's database, so the test commits for real (``transaction=True``). It runs
in the PostgreSQL pass only (marker ``postgresql``, deselected on SQLite): on the SQLite pass, once
the worker process had written the shared test file, later connections of the same xdist worker
failed with "disk I/O error" in the full suite (not in smaller runs), breaking unrelated tests.
PostgreSQL and Redis are also the pairing a practice runs when it uses separate worker processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from rapport.measures.alerts import SUBJECT, SUBJECT_ESCALATED
from rapport.measures.models import RiskAlert
from rapport.measures.services import administrations_for_appointment, answers_save
from rapport.measures.tasks import alerts_escalate_task
from rapport.practice.models import Practice
from tests.checkins import NOW, PHQ9_WITH_RISK, book, phq9_of, prepare
from tests.smtp_capture import SmtpCapture

pytestmark = pytest.mark.postgresql

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("RAPPORT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
WAIT = 30.0  # seconds: a worker that has not sent the email by then is broken, not slow


def _redis_or_fail() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis does not answer at {REDIS_URL} ({exc}). The real-worker test needs it: run `make services`, "
            "or set RAPPORT_TEST_REDIS_URL.",
            pytrace=False,
        )


class Worker:
    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self.process, self.log = process, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_for(self, what: str, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if ready():
                return
            if self.process.poll() is not None:
                pytest.fail(f"the Huey worker exited ({self.process.returncode}) before {what}:\n{self.output()}", pytrace=False)
            time.sleep(0.2)
        pytest.fail(f"the Huey worker did not do this within {WAIT:.0f} s: {what}\n{self.output()}", pytrace=False)


def _about(smtp: SmtpCapture, to: str, subject: str) -> list[EmailMessage]:
    # Booking the session also sends notices (through the same worker): pick the alert's emails.
    return [message for message in smtp.to(to) if message["Subject"] == subject]


@pytest.fixture
def smtp() -> Iterator[SmtpCapture]:
    with SmtpCapture() as capture:
        yield capture


@pytest.fixture
def worker(smtp: SmtpCapture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Worker]:
    _redis_or_fail()
    queue = f"rapport-worker-test-{uuid.uuid4().hex[:12]}"
    storage = RedisStorage(name=queue, url=REDIS_URL)
    # This process enqueues into the worker's queue instead of running tasks itself.
    monkeypatch.setattr(HUEY, "_immediate", False)
    monkeypatch.setattr(HUEY, "storage", storage)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "RAPPORT_WORKER_QUEUE": queue,
        "RAPPORT_WORKER_REDIS_URL": REDIS_URL,
        "RAPPORT_WORKER_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "RAPPORT_WORKER_SMTP_PORT": str(smtp.port),
        "SITE_URL": settings.SITE_URL,
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        # --no-periodic: the test enqueues the escalation sweep itself, when it has moved the clock.
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "1", "--no-periodic", "--delay", "0.1", "--max-delay", "0.5"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        yield Worker(process, log)
    finally:
        # SIGINT is Huey's graceful stop: the worker finishes its task and closes its database
        # connection, rather than dying with the shared SQLite file open mid-write (SIGTERM).
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        storage.flush_all()


@pytest.mark.django_db(transaction=True)
def test_a_risk_answer_reaches_the_therapist_and_then_the_on_call_therapist_through_a_real_worker(world, worker, smtp):
    prepare(world)
    appointment = book(world)
    administrations_for_appointment(appointment, now=NOW)

    result = answers_save(administration=phq9_of(appointment), answers=PHQ9_WITH_RISK, final=True, actor=world.user("client"), now=NOW)
    alert = result.alert
    assert alert is not None

    # 1. The worker, not this process, emails the therapist: nothing clinical, no name.
    therapist_email = world.user("therapist_a").email
    worker.wait_for("emailing the therapist", lambda: len(_about(smtp, therapist_email, SUBJECT)) == 1)
    (message,) = _about(smtp, therapist_email, SUBJECT)
    body = smtp.text(message)
    for revealing in (world.client.full_name, "Cora", "PHQ", "phq9"):
        assert revealing not in body
    assert f"/workspace/alerts/{alert.public_id}/" in body
    worker.wait_for("marking the alert notified", lambda: RiskAlert.objects.filter(pk=alert.pk, notified_at__isnull=False).exists())

    # 2. Nobody acknowledges it. The practice waits one minute and has an on-call therapist; the
    # alert was raised two minutes ago (the clock moved), so the sweep, run by the worker, escalates it.
    Practice.objects.filter(pk=world.practice.pk).update(risk_escalation_minutes=1, on_call_therapist=world.therapist_b)
    RiskAlert.objects.filter(pk=alert.pk).update(raised_at=timezone.now() - timedelta(minutes=2))
    alerts_escalate_task()

    on_call_email = world.user("therapist_b").email
    worker.wait_for("emailing the on-call therapist", lambda: len(_about(smtp, on_call_email, SUBJECT_ESCALATED)) == 1)
    (escalated,) = _about(smtp, on_call_email, SUBJECT_ESCALATED)
    assert world.client.full_name not in smtp.text(escalated)
    alert.refresh_from_db()
    assert alert.escalated_at is not None
    assert alert.escalated_to == world.user("therapist_b")
    assert alert.acknowledged_at is None
    # The therapist got one email, never a second one from the sweep.
    assert len(_about(smtp, therapist_email, SUBJECT)) == 1
    assert _about(smtp, therapist_email, SUBJECT_ESCALATED) == []


@pytest.mark.django_db(transaction=True)
def test_without_anyone_on_call_the_real_worker_escalates_to_the_practice_admins(world, worker, smtp):
    prepare(world)
    appointment = book(world)
    administrations_for_appointment(appointment, now=NOW)
    result = answers_save(administration=phq9_of(appointment), answers=PHQ9_WITH_RISK, final=True, actor=world.user("client"), now=NOW)
    assert result.alert is not None
    worker.wait_for("emailing the therapist", lambda: len(_about(smtp, world.user("therapist_a").email, SUBJECT)) == 1)

    Practice.objects.filter(pk=world.practice.pk).update(risk_escalation_minutes=1, on_call_therapist=None)
    RiskAlert.objects.filter(pk=result.alert.pk).update(raised_at=timezone.now() - timedelta(minutes=2))
    alerts_escalate_task()

    admin_email = world.user("admin").email
    worker.wait_for("emailing the practice admin", lambda: len(_about(smtp, admin_email, SUBJECT_ESCALATED)) == 1)
    assert RiskAlert.objects.get(pk=result.alert.pk).escalated_to is None
