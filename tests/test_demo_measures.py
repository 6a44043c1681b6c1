"""The demo practice's check-in history: what a newcomer sees after `make demo`, built by the real services."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.test import Client as Browser
from django.utils import timezone

from rapport.accounts.models import User
from rapport.clients.models import Case, Client
from rapport.demo.management.commands.demo_seed import Command
from rapport.measures import instruments, scoring
from rapport.measures.alerts import alerts_due_for_escalation
from rapport.measures.change import instrument_change
from rapport.measures.models import Administration, AdministrationStatus, PlanEntry, RiskAlert
from rapport.measures.services import BEFORE_OPENS
from rapport.practice.models import Service
from tests.checkins import TORONTO, prepare

COMPLETED = AdministrationStatus.COMPLETED


def _completed(client: Client, key: str) -> list[Administration]:
    return list(Administration.objects.filter(client=client, instrument_key=key, status=COMPLETED).order_by("submitted_at"))


def _signed_in(email: str) -> Browser:
    browser = Browser()
    browser.force_login(User.objects.get(email=email), backend="django.contrib.auth.backends.ModelBackend")
    return browser


@pytest.mark.django_db
def test_demo_seed_builds_a_measurement_history_through_the_services():
    call_command("demo_seed", stdout=StringIO())
    now = timezone.now()
    jordan = Client.objects.get(full_name="Jordan Pike")

    # Jordan: PHQ-9 and GAD-7 before each held session, each scored by the service from its answers.
    for key in ("phq9", "gad7"):
        rows = _completed(jordan, key)
        assert len(rows) >= 8
        instrument = instruments.load(key)
        for row in rows:
            assert row.total == scoring.score(instrument, row.answers).total
            assert row.appointment is not None
            assert row.submitted_at is not None
            assert row.submitted_at < row.appointment.start
        totals = [row.total for row in rows]
        assert totals[0] is not None
        assert totals[-1] is not None
        assert rows[0].band == "moderate"
        # Bumpy: at least one week worse than the one before, and still a reliable improvement by the
        # instrument's own published threshold (PHQ-9 6 points, GAD-7 4).
        assert any(later > earlier for earlier, later in pairwise(totals))  # type: ignore[operator]
        assert instrument_change(instrument, totals[0], totals[-1]).classification == "reliable_improvement"
    assert len(_completed(jordan, "alliance")) >= 8
    notes = [row.answers.get("note") for row in _completed(jordan, "alliance")]
    assert sum(1 for note in notes if note) >= 3

    # The couple: each partner answered on their own, for the same sessions; the alliance splits at the end.
    couple = Case.objects.get(kind="couple", status="active")
    alex, casey = (member.client for member in couple.members.select_related("client").order_by("position"))
    for key in ("presession", "alliance"):
        alex_rows, casey_rows = _completed(alex, key), _completed(casey, key)
        assert len(alex_rows) == len(casey_rows) >= 5
        assert {row.appointment_id for row in alex_rows} == {row.appointment_id for row in casey_rows}
        assert not {row.pk for row in alex_rows} & {row.pk for row in casey_rows}
    gaps = [abs(a.total - c.total) for a, c in zip(_completed(alex, "alliance"), _completed(casey, "alliance"), strict=True)]  # type: ignore[operator]
    assert max(gaps[:-2]) <= 3 < min(gaps[-2:])
    # A supervisor may read these under a pseudonym: no one's name is in the free text.
    names = {word for person in Client.objects.all() for word in person.full_name.split()}
    names |= {word for user in User.objects.all() for word in user.full_name.split() if word != "Dr."}
    for row in Administration.objects.filter(case=couple, status=COMPLETED):
        text = " ".join(str(value) for value in row.answers.values() if isinstance(value, str))
        assert not set(re.findall(r"\w+", text)) & names

    # One risk alert acknowledged in the past (Priya, by Sam), and exactly one open, raised minutes ago.
    acknowledged = RiskAlert.objects.get(acknowledged_at__isnull=False)
    assert acknowledged.client.full_name == "Priya Raman"
    assert acknowledged.acknowledged_by == acknowledged.therapist.user
    assert acknowledged.raised_at < acknowledged.acknowledged_at < now - timedelta(days=7)
    assert acknowledged.notified_at is not None  # its email is history: the job consumer will not send it today
    open_alert = RiskAlert.objects.get(acknowledged_at__isnull=True)
    assert open_alert.client == jordan
    assert open_alert.escalated_at is None
    assert open_alert.notified_at is None
    assert now - timedelta(minutes=15) < open_alert.raised_at < now
    assert open_alert.practice.risk_escalation_minutes >= 30
    assert alerts_due_for_escalation(now + timedelta(minutes=20)) == []
    home = _signed_in("elena@harbourlight.example").get("/workspace/")
    assert b"Check-ins that need attention now" in home.content
    assert b"Jordan Pike" in home.content
    alert_page = _signed_in("elena@harbourlight.example").get(f"/workspace/alerts/{open_alert.public_id}/")
    assert b"Several days" in alert_page.content

    # A check-in open now for Jordan's next session, waiting for him.
    waiting = Administration.objects.get(client=jordan, instrument_key="gad7", status=AdministrationStatus.PENDING)
    assert waiting.opens_at <= now < waiting.due_at
    assert waiting.appointment is not None
    assert waiting.appointment.start > now

    # Sam took GAD-7 out of Priya's plan after her first session.
    priya = Client.objects.get(full_name="Priya Raman")
    assert len(_completed(priya, "gad7")) == 1
    assert PlanEntry.objects.get(case__members__client=priya, instrument_key="gad7").active is False
    assert len(_completed(priya, "phq9")) >= 5

    # Ruth's supervision pages name no one.
    ruth = _signed_in("ruth@harbourlight.example")
    pages = [ruth.get("/workspace/supervision/")]
    pages += [ruth.get(f"/workspace/supervision/cases/{case.public_id}/") for case in Case.objects.filter(kind="couple", status="active")]
    for page in pages:
        assert page.status_code == 200
        assert not set(re.findall(r"\w+", page.content.decode())) & {
            word for person in Client.objects.all() for word in person.full_name.split()
        }
    call_command("audit_verify", stdout=StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "local",
    [
        datetime(2026, 11, 26, 17, 30),  # Thursday after hours: Friday is the only weekday left
        datetime(2026, 11, 27, 8, 0),  # Friday morning: a weekend lies between tomorrow and Monday
        datetime(2026, 11, 27, 16, 30),  # Friday, last hour
        datetime(2026, 11, 28, 12, 0),  # Saturday
        datetime(2026, 11, 29, 23, 0),  # Sunday night
        datetime(2026, 11, 24, 10, 0),  # an ordinary Tuesday
    ],
)
def test_the_next_session_falls_where_its_check_ins_are_open_whatever_the_day(world, local):
    prepare(world)
    now = local.replace(tzinfo=TORONTO)
    service = Service.objects.get(practice=world.practice, kind="individual")
    start = Command._start_within_check_in_window(world.therapist_a, service, now)
    assert now + timedelta(hours=2) <= start <= now + BEFORE_OPENS - timedelta(hours=1)
    assert time(9) <= start.astimezone(TORONTO).time() < time(17)
