"""The demo practice's signals: every kind shown on a fictional history, stored by the seed, acted on once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client as Browser
from django.utils import timezone

from rapport.accounts.models import User
from rapport.audit.models import AuditEvent
from rapport.clients.models import Case, Client
from rapport.insights.models import Signal, SignalKind, SignalStatus
from rapport.insights.services import signals_detect
from rapport.measures.models import Administration, AdministrationStatus, Timing
from rapport.scheduling.models import Appointment, AppointmentStatus


def _signed_in(user: User) -> Browser:
    browser = Browser()
    browser.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return browser


def _snapshot() -> list[tuple[object, ...]]:
    return list(
        Signal.objects.order_by("id").values_list(
            "id", "case_id", "client_id", "kind", "key", "severity", "status", "acknowledged_at", "resolved_at"
        )
    )


@pytest.mark.django_db
def test_demo_seed_shows_every_kind_of_signal_and_its_lifecycle() -> None:
    started = timezone.now()
    out = StringIO()
    call_command("demo_seed", stdout=out)

    kinds = set(Signal.objects.values_list("kind", flat=True))
    assert kinds == set(SignalKind.values)
    about = {(signal.kind, signal.client.full_name if signal.client else "couple") for signal in Signal.objects.select_related("client")}
    # The new course carries the outcome and engagement signals; Priya's note the words-versus-scores one.
    assert {
        (SignalKind.NOT_ON_TRACK, "Owen Mercer"),
        (SignalKind.DETERIORATION, "Owen Mercer"),
        (SignalKind.DISENGAGEMENT, "Owen Mercer"),
        (SignalKind.WORDS, "Priya Raman"),
        (SignalKind.SPLIT, "couple"),
    } <= about
    owen_signals = Signal.objects.filter(client__full_name="Owen Mercer", kind=SignalKind.DISENGAGEMENT)
    assert owen_signals.count() == 2, "two missed check-ins in a row, and a no-show with nothing booked after it"

    # Owen's history is what the rules describe, made by the services: two check-ins expired, a
    # session marked missed, nothing booked since.
    owen = Client.objects.get(full_name="Owen Mercer")
    expired = Administration.objects.filter(client=owen, timing=Timing.BEFORE, status=AdministrationStatus.EXPIRED)
    assert expired.count() == 2
    missed = Appointment.objects.get(case__members__client=owen, status=AppointmentStatus.NO_SHOW)
    assert not Appointment.objects.filter(case=missed.case, start__gt=missed.start).exists()
    answered = Administration.objects.filter(client=owen, status=AdministrationStatus.COMPLETED).values_list("submitted_at", flat=True)
    assert all(at is not None and at < started for at in answered)

    # The lifecycle: one acknowledged and one resolved with a note, each by its case's therapist.
    (acknowledged,) = Signal.objects.filter(status=SignalStatus.ACKNOWLEDGED).select_related("case__primary_therapist")
    (resolved,) = Signal.objects.filter(status=SignalStatus.RESOLVED).select_related("case__primary_therapist")
    assert acknowledged.acknowledged_by == acknowledged.case.primary_therapist.user
    assert resolved.resolved_by == resolved.case.primary_therapist.user
    assert resolved.resolution_note
    assert Signal.objects.filter(status=SignalStatus.NEW).count() == Signal.objects.count() - 2
    updates = AuditEvent.objects.filter(object_type="insights.signal", action="update")
    assert set(updates.values_list("object_id", flat=True)) == {acknowledged.public_id, resolved.public_id}

    # Stored by the seed's own run: a run now finds nothing new, and every signal lies within the history.
    for case in Case.objects.filter(status="active"):
        assert signals_detect(case, now=timezone.now()) == []
    today = timezone.localdate()
    assert all(today - timedelta(weeks=12) < day <= today for day in Signal.objects.values_list("occurred_on", flat=True))

    # Each therapist's signals page shows them at once, open and resolved.
    for signal in (acknowledged, resolved):
        page = _signed_in(signal.case.primary_therapist.user).get(f"/workspace/cases/{signal.case.public_id}/signals/")
        assert page.status_code == 200
        assert signal.get_kind_display().encode() in page.content
    owen_case = Case.objects.get(members__client=owen)
    page = _signed_in(owen_case.primary_therapist.user).get(f"/workspace/cases/{owen_case.public_id}/signals/")
    for kind in (SignalKind.NOT_ON_TRACK, SignalKind.DETERIORATION, SignalKind.DISENGAGEMENT):
        assert kind.label.encode() in page.content

    # Running the seed again changes nothing.
    before = _snapshot()
    counts = (Case.objects.count(), Administration.objects.count(), Appointment.objects.count(), AuditEvent.objects.count())
    call_command("demo_seed", stdout=out)
    assert "already exists" in out.getvalue()
    assert _snapshot() == before
    assert (Case.objects.count(), Administration.objects.count(), Appointment.objects.count(), AuditEvent.objects.count()) == counts
    call_command("audit_verify", stdout=StringIO())
