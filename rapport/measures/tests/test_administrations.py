"""Administrations on the real databases: the plan, creation per appointment, answers and their storage."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction

from rapport.audit.models import AuditEvent
from rapport.consents.services import ItemSpec, consent_document_create, consent_sign, consent_version_publish
from rapport.measures.models import Administration, AdministrationStatus, PlanEntry, RiskAlert, Timing
from rapport.measures.selectors import administration_answers_read
from rapport.measures.services import (
    ALREADY_SENT,
    CANCELLED,
    EXPIRED,
    NOT_YOURS,
    administrations_expire,
    administrations_for_appointment,
    answers_save,
    plan_entries_ensure,
    plan_set,
)
from rapport.practice.models import Service
from rapport.scheduling.models import Appointment
from rapport.scheduling.services import appointment_book, appointment_cancel, appointment_mark_no_show, appointment_reschedule
from tests.checkins import NOW, PHQ9_NO_RISK, at, book, phq9_of, prepare
from tests.personas import World


@pytest.fixture
def ready(world: World) -> World:
    return prepare(world)


def _created(appointment: Appointment) -> list[tuple[str, str, str]]:
    return sorted(Administration.objects.filter(appointment=appointment).values_list("client__full_name", "instrument_key", "timing"))


# --- The plan and creation ---------------------------------------------------------------------------


def test_an_individual_case_starts_with_phq9_and_gad7_before_and_the_alliance_after(ready):
    appointment = book(ready)
    issued = administrations_for_appointment(appointment, now=NOW)
    assert _created(appointment) == [
        ("Cora Client", "alliance", "after"),
        ("Cora Client", "gad7", "before"),
        ("Cora Client", "phq9", "before"),
    ]
    assert len(issued) == 3
    phq9 = phq9_of(appointment)
    assert (phq9.status, phq9.instrument_version, phq9.due_at, phq9.expires_at) == ("pending", "2001", appointment.start, appointment.end)
    alliance = Administration.objects.get(appointment=appointment, instrument_key="alliance")
    assert alliance.opens_at == appointment.end


def test_each_partner_of_a_couple_gets_their_own_check_ins(ready):
    appointment = book(ready, "couple")
    administrations_for_appointment(appointment, now=NOW)
    assert _created(appointment) == [
        ("Pat Partner", "alliance", "after"),
        ("Pat Partner", "presession", "before"),
        ("Quinn Partner", "alliance", "after"),
        ("Quinn Partner", "presession", "before"),
    ]


def test_the_token_is_returned_once_and_only_its_hash_is_stored(ready):
    issued = administrations_for_appointment(book(ready), now=NOW)
    for each in issued:
        assert each.token
        assert each.token not in each.administration.token_hash
        assert len(each.administration.token_hash) == 64
    assert len({each.token for each in issued}) == 3


def test_creating_twice_for_the_same_appointment_creates_nothing_more(ready):
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    assert administrations_for_appointment(appointment, now=NOW + timedelta(minutes=5)) == []
    assert Administration.objects.filter(appointment=appointment).count() == 3


def test_the_database_refuses_a_second_administration_of_the_same_kind(ready):
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    twin = phq9_of(appointment)
    with pytest.raises(IntegrityError), transaction.atomic():
        Administration.objects.create(
            practice=twin.practice,
            case=twin.case,
            client=twin.client,
            appointment=appointment,
            instrument_key="phq9",
            instrument_version="2001",
            timing=Timing.BEFORE,
            opens_at=twin.opens_at,
            due_at=twin.due_at,
            expires_at=twin.expires_at,
            token_hash="0" * 64,
        )


def test_none_for_a_cancelled_appointment(ready):
    appointment = book(ready)
    appointment_cancel(actor=ready.user("therapist_a"), appointment=appointment, by_client=False, now=NOW)
    assert administrations_for_appointment(appointment, now=NOW) == []
    assert not Administration.objects.exists()


def test_none_for_a_consultation(ready):
    consultation = appointment_book(
        actor=None,
        therapist=ready.therapist_a,
        service=Service.objects.get(practice=ready.practice, kind="consultation"),
        start=at(9),
        contact_name="Robin Visitor",
        contact_email="robin@mail.example",
        privacy_accepted=True,
        now=NOW,
    )
    assert consultation.case is None
    assert administrations_for_appointment(consultation, now=NOW) == []
    assert not Administration.objects.exists()


def test_none_whose_time_to_answer_has_passed(ready):
    appointment = book(ready)
    after_the_session = appointment.end + timedelta(hours=1)
    administrations_for_appointment(appointment, now=after_the_session)
    assert _created(appointment) == [("Cora Client", "alliance", "after")]


def test_cancelling_the_appointment_cancels_its_open_check_ins_and_keeps_answered_ones(ready):
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    answers_save(administration=phq9_of(appointment), answers=PHQ9_NO_RISK, final=True, actor=ready.user("client"), now=NOW)
    appointment_cancel(actor=ready.user("therapist_a"), appointment=appointment, by_client=False, now=NOW)
    statuses = dict(Administration.objects.filter(appointment=appointment).values_list("instrument_key", "status"))
    assert statuses == {"phq9": "completed", "gad7": "cancelled", "alliance": "cancelled"}
    with pytest.raises(ValidationError, match=CANCELLED):
        answers_save(
            administration=Administration.objects.get(appointment=appointment, instrument_key="gad7"),
            answers={"gad7_1": 0},
            final=False,
            actor=ready.user("client"),
            now=NOW,
        )


def test_a_missed_session_closes_its_open_check_ins_and_keeps_answered_ones(ready):
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    answers_save(administration=phq9_of(appointment), answers=PHQ9_NO_RISK, final=True, actor=ready.user("client"), now=NOW)
    appointment_mark_no_show(actor=ready.user("therapist_a"), appointment=appointment, now=appointment.start + timedelta(minutes=20))
    statuses = dict(Administration.objects.filter(appointment=appointment).values_list("instrument_key", "status"))
    assert statuses == {"phq9": "completed", "gad7": "cancelled", "alliance": "cancelled"}


def test_check_ins_past_their_time_are_marked_expired_once_keeping_partial_answers(ready):
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    answers_save(administration=phq9_of(appointment), answers={"phq9_1": 2}, final=False, actor=ready.user("client"), now=NOW)
    gad7 = Administration.objects.get(appointment=appointment, instrument_key="gad7")
    alliance = Administration.objects.get(appointment=appointment, instrument_key="alliance")
    assert administrations_expire(now=gad7.expires_at - timedelta(seconds=1)) == 0
    after_the_session = max(phq9_of(appointment).expires_at, gad7.expires_at) + timedelta(seconds=1)
    assert after_the_session < alliance.expires_at
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    assert administrations_expire(now=after_the_session) == 2
    assert administrations_expire(now=after_the_session) == 0
    statuses = dict(Administration.objects.filter(appointment=appointment).values_list("instrument_key", "status"))
    assert statuses == {"phq9": "expired", "gad7": "expired", "alliance": "pending"}
    assert phq9_of(appointment).answers == {"phq9_1": 2}
    assert AuditEvent.objects.filter(id__gt=mark, object_type="measures.administration").count() == 2


def test_moving_the_appointment_moves_its_open_check_ins(ready):
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    moved = appointment_reschedule(actor=ready.user("therapist_a"), appointment=appointment, new_start=at(14), by_client=False, now=NOW)
    phq9 = phq9_of(appointment)
    assert (phq9.due_at, phq9.expires_at) == (moved.start, moved.end)


def test_a_client_who_paused_check_ins_gets_none_and_one_who_never_decided_does(ready):
    document = consent_document_create(actor=ready.user("admin"), practice=ready.practice, key="measures", title="Check-ins")
    version = consent_version_publish(
        actor=ready.user("admin"),
        document=document,
        content="Fictional: about check-ins.",
        items=[ItemSpec(key="check_ins", text="Send me short check-ins before and after sessions.")],
        material=True,
    )
    consent_sign(
        actor=ready.user("partner_a"), client=ready.partner_a, version=version, typed_name="Pat Partner", choices={"check_ins": False}
    )
    appointment = book(ready, "couple")
    administrations_for_appointment(appointment, now=NOW)
    assert {name for name, _, _ in _created(appointment)} == {"Quinn Partner"}


def test_the_therapist_changes_the_plan_and_bad_entries_are_refused(ready):
    case = ready.individual_case
    therapist = ready.user("therapist_a")
    with pytest.raises(ValidationError, match="no instrument called 'phq99'"):
        plan_set(actor=therapist, case=case, entries=[("phq99", "before")])
    with pytest.raises(ValidationError, match="data collection only"):
        plan_set(actor=therapist, case=case, entries=[("who5", "before")])
    with pytest.raises(ValidationError, match="before or after"):
        plan_set(actor=therapist, case=case, entries=[("phq9", "during")])
    with pytest.raises(PermissionError):
        plan_set(actor=ready.user("therapist_b"), case=case, entries=[("phq9", "before")])
    assert not PlanEntry.objects.filter(case=case).exists()
    plan_set(actor=therapist, case=case, entries=[("gad7", "before"), ("presession", "before")])
    active = sorted(PlanEntry.objects.filter(case=case, active=True).values_list("instrument_key", flat=True))
    assert active == ["gad7", "presession"]
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    assert [key for _, key, _ in _created(appointment)] == ["gad7", "presession"]


def test_an_emptied_plan_stays_empty(ready):
    plan_set(actor=ready.user("therapist_a"), case=ready.individual_case, entries=[])
    assert [e.active for e in plan_entries_ensure(ready.individual_case)] == [False, False, False]
    assert administrations_for_appointment(book(ready), now=NOW) == []


# --- Answers ----------------------------------------------------------------------------------------


@pytest.fixture
def phq9(ready: World) -> Administration:
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    return phq9_of(appointment)


def test_partial_answers_are_kept_and_the_final_save_scores_and_closes(ready, phq9):
    cora = ready.user("client")
    first = answers_save(administration=phq9, answers={"phq9_1": 2, "phq9_2": 1}, final=False, actor=cora, now=NOW)
    assert first.administration.status == AdministrationStatus.IN_PROGRESS
    assert first.score.scorable is False
    assert first.alert is None
    rest = {key: value for key, value in PHQ9_NO_RISK.items() if key not in {"phq9_1", "phq9_2"}}
    final = answers_save(administration=phq9, answers=rest, final=True, actor=cora, now=NOW + timedelta(minutes=3))
    stored = Administration.objects.get(pk=phq9.pk)
    assert stored.status == AdministrationStatus.COMPLETED
    assert stored.submitted_at == NOW + timedelta(minutes=3)
    # 2 + 1 + six answers of 1 + item 9 at 0 = 9: "mild" (Kroenke 2001, 5-9).
    assert (stored.total, stored.raw_total, stored.band, stored.scorable, stored.prorated) == (9, 9, "mild", True, False)
    assert (stored.risk, stored.risk_unanswered, stored.instrument_version) == ([], [], "2001")
    assert final.alert is None
    assert administration_answers_read(user=cora, administration=stored) == {**PHQ9_NO_RISK, "phq9_1": 2}


def test_a_prorated_total_says_so(ready, phq9):
    answers = {key: value for key, value in PHQ9_NO_RISK.items() if key != "phq9_3"}
    answers_save(administration=phq9, answers=answers, final=True, actor=ready.user("client"), now=NOW)
    stored = Administration.objects.get(pk=phq9.pk)
    assert (stored.total, stored.prorated) == (8, True)


def _unchanged(phq9: Administration, audit_mark: int) -> None:
    stored = Administration.objects.get(pk=phq9.pk)
    assert (stored.answers, stored.status, stored.total) == (None, AdministrationStatus.PENDING, None)
    assert not AuditEvent.objects.filter(id__gt=audit_mark).exists()
    assert not RiskAlert.objects.exists()


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"phq9_10": 1}, "phq9_10: unknown item"),
        ({"phq9_1": 4}, "phq9_1: 4 is not an allowed value; allowed: 0 (Not at all)"),
        ({"phq9_9": -1}, "phq9_9: -1 is not an allowed value"),
        ({"phq9_2": "often"}, "phq9_2: expected an integer"),
        ({"phq9_2": True}, "phq9_2: expected an integer"),
    ],
)
def test_bad_answers_are_refused_with_a_message_and_nothing_is_stored(ready, phq9, answers, message):
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    with pytest.raises(ValidationError, match=re.escape(message)):
        answers_save(administration=phq9, answers={"phq9_9": 3, **answers}, final=True, actor=ready.user("client"), now=NOW)
    _unchanged(phq9, mark)


def test_a_second_submission_is_refused_and_changes_nothing(ready, phq9):
    cora = ready.user("client")
    answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, actor=cora, now=NOW)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    for final in (True, False):
        with pytest.raises(ValidationError, match=ALREADY_SENT):
            answers_save(administration=phq9, answers={**PHQ9_NO_RISK, "phq9_9": 3}, final=final, actor=cora, now=NOW)
    stored = Administration.objects.get(pk=phq9.pk)
    assert (stored.answers["phq9_9"], stored.total) == (0, 8)
    assert not AuditEvent.objects.filter(id__gt=mark).exists()
    assert not RiskAlert.objects.exists()


def test_an_expired_check_in_is_refused(ready, phq9):
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    with pytest.raises(ValidationError, match=EXPIRED):
        answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, actor=ready.user("client"), now=phq9.expires_at)
    _unchanged(phq9, mark)


def test_the_link_works_for_its_own_check_in_only(ready):
    appointment = book(ready)
    issued = {each.administration.instrument_key: each for each in administrations_for_appointment(appointment, now=NOW)}
    phq9 = issued["phq9"].administration
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    with pytest.raises(PermissionError, match=NOT_YOURS):
        answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, token=issued["gad7"].token, now=NOW)
    _unchanged(phq9, mark)
    answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, token=issued["phq9"].token, now=NOW)
    assert Administration.objects.get(pk=phq9.pk).status == AdministrationStatus.COMPLETED
    with pytest.raises(ValidationError, match=ALREADY_SENT):
        answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, token=issued["phq9"].token, now=NOW)


def test_a_partner_cannot_answer_or_read_the_other_partners_check_in(ready):
    appointment = book(ready, "couple")
    administrations_for_appointment(appointment, now=NOW)
    pats = Administration.objects.get(appointment=appointment, client=ready.partner_a, instrument_key="presession")
    answers_save(administration=pats, answers={"week": 6}, final=False, actor=ready.user("partner_a"), now=NOW)
    with pytest.raises(PermissionError):
        answers_save(administration=pats, answers={"week": 2}, final=True, actor=ready.user("partner_b"), now=NOW)
    for persona in ("partner_b", "therapist_b", "admin"):
        with pytest.raises(PermissionDenied):
            administration_answers_read(user=ready.user(persona), administration=pats)
    pats.refresh_from_db()
    assert administration_answers_read(user=ready.user("therapist_a"), administration=pats) == {"week": 6}


def test_every_answer_is_encrypted_at_rest(ready):
    appointment = book(ready)
    administrations_for_appointment(appointment, now=NOW)
    alliance = Administration.objects.get(appointment=appointment, instrument_key="alliance")
    words = "FICTIONAL-WORDS I felt rushed today"
    answers_save(
        administration=alliance,
        answers={"goals": 7, "tasks": 6, "bond": 9, "note": words},
        final=True,
        actor=ready.user("client"),
        now=appointment.end + timedelta(minutes=5),
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT answers FROM measures_administration WHERE id = %s", [alliance.pk])
        raw = cursor.fetchone()[0]
    assert raw
    assert not any(plain in raw for plain in ("FICTIONAL-WORDS", "goals", "bond", "note"))
    assert Administration.objects.get(pk=alliance.pk).answers["note"] == words
    assert Administration.objects.get(pk=alliance.pk).total == 22


def test_reading_answers_is_audited(ready, phq9):
    answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, actor=ready.user("client"), now=NOW)
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    administration_answers_read(user=ready.user("therapist_a"), administration=phq9)
    event = AuditEvent.objects.get(id__gt=mark)
    assert (event.action, event.object_type, event.client_id) == ("view", "measures.administration", ready.client.public_id)
    assert event.detail == {"fields": ["answers"]}


def test_a_check_in_whose_instrument_changed_since_it_was_sent_is_refused(ready, phq9):
    Administration.objects.filter(pk=phq9.pk).update(instrument_version="1999")
    mark = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    with pytest.raises(ValidationError, match="have changed since it was sent"):
        answers_save(administration=phq9, answers=PHQ9_NO_RISK, final=True, actor=ready.user("client"), now=NOW)
    stored = Administration.objects.get(pk=phq9.pk)
    assert (stored.answers, stored.status) == (None, AdministrationStatus.PENDING)
    assert not AuditEvent.objects.filter(id__gt=mark).exists()


def test_a_check_in_not_open_yet_is_refused(ready, phq9):
    with pytest.raises(ValidationError, match="not open yet"):
        answers_save(
            administration=phq9, answers=PHQ9_NO_RISK, final=False, actor=ready.user("client"), now=phq9.opens_at - timedelta(seconds=1)
        )
    assert Administration.objects.get(pk=phq9.pk).answers is None
