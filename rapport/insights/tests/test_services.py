"""Signals from stored data, on both databases: what is stored, once, with its evidence; acknowledge and resolve."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from rapport.audit.models import AuditEvent
from rapport.insights.models import Signal, SignalKind, SignalStatus
from rapport.insights.services import signal_acknowledge, signal_resolve, signals_detect
from rapport.measures.models import Timing
from tests.checkins import risk_alert
from tests.personas import World
from tests.results import phq9, sent, when

pytestmark = pytest.mark.django_db

AFTER = Timing.AFTER


def _alliance(world: World, client, case, ratings: list[tuple[int, int, int]], *, start_day: int = 2) -> None:
    for week, (goals, tasks, bond) in enumerate(ratings):
        sent(
            client,
            case,
            "alliance",
            {"goals": goals, "tasks": tasks, "bond": bond},
            when(3, start_day) + timedelta(weeks=week),
            timing=AFTER,
        )


def test_a_drop_in_the_alliance_is_stored_once_with_its_evidence(world: World):
    _alliance(world, world.client, world.individual_case, [(9, 9, 9), (9, 9, 9), (9, 9, 9), (6, 6, 6)])
    [signal] = signals_detect(world.individual_case, now=when(4, 1))
    assert (signal.kind, signal.client, signal.severity, signal.status) == (SignalKind.RUPTURE, world.client, 3, SignalStatus.NEW)
    assert "a marked drop from a recent mean of 27.0 to 18" in signal.summary
    stored = Signal.objects.get(pk=signal.pk)
    assert [o["value"] for o in stored.evidence["observations"]] == [27, 27, 27, 18]
    assert stored.evidence["rules"][0]["design"] is True
    assert "asking how the last one felt" in stored.evidence["next_step"]
    assert AuditEvent.objects.filter(object_type="insights.signal", object_id=str(signal.public_id), action="create").count() == 1
    assert AuditEvent.objects.filter(object_type="insights.detection", client_id=str(world.client.public_id)).exists()

    # The same data again: nothing new.
    assert signals_detect(world.individual_case, now=when(4, 2)) == []
    assert Signal.objects.count() == 1


def test_a_couple_far_apart_is_one_split_about_the_couple_and_a_low_bond_is_the_partners_own(world: World):
    case = world.couple_case
    _alliance(world, world.partner_a, case, [(9, 9, 9)])
    _alliance(world, world.partner_b, case, [(6, 5, 3)])
    signals = {s.kind: s for s in signals_detect(case, now=when(3, 10))}
    assert set(signals) == {SignalKind.SPLIT, SignalKind.RUPTURE}
    assert signals[SignalKind.SPLIT].client is None
    assert "13 points apart" in signals[SignalKind.SPLIT].summary
    assert signals[SignalKind.RUPTURE].client == world.partner_b
    assert "a low rating of the bond" in signals[SignalKind.RUPTURE].summary


def test_a_reliably_worse_phq9_and_a_heavy_note_beside_better_scores(world: World):
    client, case = world.client, world.individual_case
    sent(client, case, "phq9", phq9(8), when(3, 3))
    sent(client, case, "phq9", phq9(16), when(3, 10))
    [signal] = signals_detect(case, now=when(3, 11))
    assert (signal.kind, signal.topic) == (SignalKind.DETERIORATION, "phq9")
    assert "16 against 8 at the start" in signal.summary

    couple = world.couple_case
    sent(world.partner_a, couple, "phq9", phq9(18), when(3, 3))
    sent(world.partner_a, couple, "phq9", phq9(10), when(3, 17))
    sent(world.partner_a, couple, "presession", {"week": 2, "agenda": "Fictional: honestly everything is falling apart."}, when(3, 18))
    [words] = signals_detect(couple, now=when(3, 19))
    assert (words.kind, words.client) == (SignalKind.WORDS, world.partner_a)
    assert words.evidence["phrases"] == ["Fictional: honestly everything is falling apart."]


def test_a_risk_answer_joins_the_signals(world: World):
    alert = risk_alert(world)
    [signal] = signals_detect(alert.case, now=alert.raised_at + timedelta(minutes=5))
    assert (signal.kind, signal.severity, signal.topic) == (SignalKind.RISK, 3, str(alert.public_id))
    assert "item 9" in signal.summary


def test_the_therapist_acknowledges_and_resolves_and_a_return_links_back(world: World):
    client, case = world.client, world.individual_case
    therapist = world.user("therapist_a")
    sent(client, case, "phq9", phq9(8), when(3, 3))
    sent(client, case, "phq9", phq9(16), when(3, 10))
    [signal] = signals_detect(case, now=when(3, 11))

    with pytest.raises(PermissionDenied):
        signal_acknowledge(actor=world.user("therapist_b"), signal=signal)
    with pytest.raises(PermissionDenied):
        signal_acknowledge(actor=world.user("supervisor"), signal=signal)
    signal = signal_acknowledge(actor=therapist, signal=signal)
    assert (signal.status, signal.acknowledged_by) == (SignalStatus.ACKNOWLEDGED, therapist)
    with pytest.raises(ValidationError, match="already acknowledged"):
        signal_acknowledge(actor=therapist, signal=signal)

    with pytest.raises(ValidationError, match="short note"):
        signal_resolve(actor=therapist, signal=signal, note="   ")
    assert Signal.objects.get(pk=signal.pk).status == SignalStatus.ACKNOWLEDGED
    signal = signal_resolve(actor=therapist, signal=signal, note="Fictional: talked it through; a hard month at work.")
    assert Signal.objects.get(pk=signal.pk).resolution_note == "Fictional: talked it through; a hard month at work."

    # Better, then worse again: a new stretch, linked to the resolved one.
    sent(client, case, "phq9", phq9(8), when(3, 17))
    sent(client, case, "phq9", phq9(17), when(3, 24))
    [again] = signals_detect(case, now=when(3, 25))
    assert again.previous == signal
    assert again.status == SignalStatus.NEW


def test_a_sent_check_in_runs_the_detectors_once_it_commits(world: World, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _alliance(world, world.client, world.individual_case, [(9, 9, 2)])
    [signal] = Signal.objects.all()
    assert signal.kind == SignalKind.RUPTURE


def test_no_run_is_queued_while_triggers_are_held(world: World, django_capture_on_commit_callbacks):
    from rapport.insights import triggers

    with django_capture_on_commit_callbacks(execute=True), triggers.held():
        _alliance(world, world.client, world.individual_case, [(9, 9, 2)])
    assert not Signal.objects.exists()
    # Released, the next run covers everything saved so far, the held check-in's low bond included.
    with django_capture_on_commit_callbacks(execute=True):
        _alliance(world, world.client, world.individual_case, [(9, 9, 2)], start_day=20)
    assert Signal.objects.count() == 2
