"""The demo's signals: one more fictional course, and the detectors' first run over the whole practice.

Owen Mercer's course shows what the other demo courses do not: a PHQ-9 that stays where it began
(not on track), then rises past the instrument's reliable-change threshold (reliable
deterioration), then two pre-session check-ins left unanswered and a missed session with nothing
booked after it (engagement). Everything goes through the real services: the bookings, the
check-ins he answers with his one-time links, the expiry job for the ones he leaves, and the
therapist marking the missed session. Each step runs with the clock of the moment it belongs to.

At the end the detectors run over every case with the seed's "now", so each therapist's signals
page is filled at once, and one signal is acknowledged and one resolved with a note, so the
lifecycle shows. Every person and every word here is invented.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import CommandError
from django.db.models import F

from rapport.accounts.models import User
from rapport.clients.models import Case, CaseStatus
from rapport.clients.services import case_open, case_update_summary, client_create
from rapport.insights.models import Signal, SignalKind
from rapport.insights.services import signal_acknowledge, signal_resolve, signals_detect
from rapport.measures.models import Timing
from rapport.measures.services import BEFORE_OPENS, administrations_expire, administrations_for_appointment, answers_save, plan_set
from rapport.practice.models import Practice, Service, Therapist
from rapport.scheduling.availability import free_starts
from rapport.scheduling.models import Appointment, AppointmentStatus, Notice, NoticeState
from rapport.scheduling.services import appointment_book, appointment_mark_no_show

OWEN_NAME, OWEN_EMAIL = "Owen Mercer", "owen.mercer@mail.example"
OWEN_SUMMARY = (
    "Low mood since the furniture workshop he ran for twelve years closed in the spring. Came at his sister's "
    "suggestion. Talks most easily about practical things; likes a small, concrete task between sessions."
)
# Per held session with a PHQ-9, oldest first: the PHQ-9 total (item 9 always "Not at all") and the
# after-session ratings (goals, tasks, bond). The total stays near where it began for seven scores
# (the first 13; the sixth and seventh average 15, not the 3 points better that half a reliable
# change asks), then the eighth is 19: 6 worse than the first, the PHQ-9's reliable-change size.
# The ratings stay steady and his notes plain, so the alliance gives no signal of its own.
OWEN_COURSE: list[tuple[int, tuple[int, int, int], str]] = [
    (13, (7, 6, 8), ""),
    (14, (7, 7, 8), "Fictional: the list of small jobs for the week is a start."),
    (12, (7, 7, 8), ""),
    (14, (7, 6, 8), ""),
    (15, (7, 7, 8), ""),
    (14, (6, 6, 8), "Fictional: not sure the activity plan is working yet."),
    (16, (7, 6, 8), ""),
    (19, (6, 6, 7), ""),
]
# Then two sessions he came to without answering the check-in before them (he answered the first
# one's after-session check-in), and last week a session he missed, with nothing booked since.
OWEN_QUIET_RATINGS = (6, 6, 7)
OWEN_PHQ9_ORDER = ("phq9_2", "phq9_4", "phq9_3", "phq9_1", "phq9_6", "phq9_7", "phq9_5", "phq9_8")

ACKNOWLEDGED_KIND = SignalKind.SPLIT
RESOLVED_KIND = SignalKind.RISK
RESOLUTION_NOTE = (
    "Fictional: rang her that morning. She felt safe and had her sister staying for the anniversary week; "
    "we went over her plan for the hard evenings and came back to it at the next session."
)


def _phq9(total: int) -> dict[str, object]:
    answers = dict.fromkeys(OWEN_PHQ9_ORDER, 0)
    for n in range(total):
        answers[OWEN_PHQ9_ORDER[n % len(OWEN_PHQ9_ORDER)]] += 1
    return {**answers, "phq9_9": 0, "phq9_difficulty": 2 if total >= 15 else 1}


def _alliance(ratings: tuple[int, int, int], note: str = "") -> dict[str, object]:
    goals, tasks, bond = ratings
    return {"goals": goals, "tasks": tasks, "bond": bond, "note": note}


def _weekly_sessions(therapist: Therapist, service: Service, case: Case, *, weeks: int, now: datetime) -> list[Appointment]:
    """One session a week for ``weeks`` weeks up to now, each booked a week ahead through the booking service."""
    booked = []
    for weeks_ago in range(weeks, 0, -1):
        after = now - timedelta(weeks=weeks_ago)
        booked_at = after - timedelta(days=7)
        starts = [
            start
            for start in free_starts(
                therapist=therapist, service=service, window_start=after, window_end=after + timedelta(days=6), now=booked_at
            )
            if start.minute == 0 and start + timedelta(minutes=service.duration_minutes) < now
        ]
        if not starts:
            raise CommandError(f"{therapist.display_name} has no free time for {service.name} in the week after {after:%Y-%m-%d}.")
        booked.append(
            appointment_book(actor=therapist.user, therapist=therapist, service=service, start=starts[0], case=case, now=booked_at)
        )
    return booked


def _seed_owen(practice: Practice, therapist: Therapist, now: datetime) -> Case:
    therapist_user = therapist.user
    owen = client_create(actor=None, practice=practice, full_name=OWEN_NAME, email=OWEN_EMAIL)
    case = case_open(actor=therapist_user, therapist=therapist, clients=[owen], status=CaseStatus.ACTIVE)
    case_update_summary(actor=therapist_user, case=case, summary=" ".join(OWEN_SUMMARY.split()))
    # Sam kept Owen's check-ins short from the start: the PHQ-9 before, the alliance after.
    plan_set(actor=therapist_user, case=case, entries=[("phq9", Timing.BEFORE), ("alliance", Timing.AFTER)])
    service = Service.objects.get(practice=practice, kind=case.kind)
    sessions = _weekly_sessions(therapist, service, case, weeks=len(OWEN_COURSE) + 3, now=now)
    scored, quiet, missed = sessions[: len(OWEN_COURSE)], sessions[len(OWEN_COURSE) : -1], sessions[-1]

    def issue(appointment: Appointment) -> dict[str, Any]:
        created = administrations_for_appointment(appointment, now=appointment.start - BEFORE_OPENS)
        return {item.administration.instrument_key: item for item in created}

    def send(item: Any, answers: dict[str, object], at: datetime) -> None:
        answers_save(administration=item.administration, answers=answers, final=True, token=item.token, now=at)

    def held(appointment: Appointment) -> None:
        Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.COMPLETED)

    for appointment, (phq9, ratings, note) in zip(scored, OWEN_COURSE, strict=True):
        issued = issue(appointment)
        send(issued["phq9"], _phq9(phq9), appointment.start - timedelta(hours=6))
        held(appointment)
        send(issued["alliance"], _alliance(ratings, note), appointment.end + timedelta(hours=4))
    for number, appointment in enumerate(quiet):
        issued = issue(appointment)
        held(appointment)
        if number == 0:
            send(issued["alliance"], _alliance(OWEN_QUIET_RATINGS), appointment.end + timedelta(hours=5))
        # The expiry job, run when each check-in's time to answer was up.
        administrations_expire(now=appointment.end + timedelta(days=4))
    issue(missed)
    appointment_mark_no_show(actor=therapist_user, appointment=missed, now=missed.start + timedelta(minutes=20))
    return case


def _lifecycle(therapist_users: dict[int, User]) -> None:
    """Acknowledge one signal and resolve one with a note, as each case's therapist would on the page."""
    for kind, act in ((ACKNOWLEDGED_KIND, "acknowledge"), (RESOLVED_KIND, "resolve")):
        signal = Signal.objects.filter(kind=kind).select_related("case").order_by("occurred_on", "id").first()
        if signal is None:
            raise CommandError(f"The demo expects a {kind.label.lower()} signal to show the lifecycle; the detectors found none.")
        actor = therapist_users[signal.case.primary_therapist_id]
        if act == "acknowledge":
            signal_acknowledge(actor=actor, signal=signal)
        else:
            signal_resolve(actor=actor, signal=signal, note=RESOLUTION_NOTE)


def seed_signals(*, practice: Practice, sam: Therapist, now: datetime) -> None:
    """Owen's course, then the detectors over every case, then one signal acknowledged and one resolved."""
    _seed_owen(practice, sam, now)
    # His bookings queued confirmations and reminders in the past: history, recorded as sent.
    Notice.objects.filter(state=NoticeState.PENDING, due_at__lte=now).update(
        state=NoticeState.SENT, sent_at=F("due_at"), claimed_at=F("due_at")
    )
    for case in Case.objects.filter(practice=practice, status=CaseStatus.ACTIVE).order_by("id"):
        signals_detect(case, now=now)
    found = set(Signal.objects.filter(practice=practice).values_list("kind", flat=True))
    if missing := set(SignalKind.values) - found:
        raise CommandError(f"The demo's histories should show every kind of signal; none of: {', '.join(sorted(missing))}.")
    therapists = Therapist.objects.filter(practice=practice).select_related("user")
    _lifecycle({therapist.pk: therapist.user for therapist in therapists})
