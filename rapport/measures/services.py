"""Writes for check-ins: the measurement plan, administrations and their answers.

Nothing here invites a client: ``administrations_for_appointment`` creates the rows, keeps each
one-time token sealed on its row and returns it to its caller; the periodic sweep in
``rapport.measures.invitations`` calls it and sends the emails (docs/checkins.md). The risk path is live:
a saved risk answer raises a ``RiskAlert`` in the same transaction (``rapport.measures.alerts``).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case, CaseKind, CaseStatus, Client
from rapport.consents.selectors import consent_state
from rapport.consents.services import CHECK_INS
from rapport.measures import instruments, scoring
from rapport.measures.alerts import alert_raise
from rapport.measures.audit import administration_audit
from rapport.measures.models import OPEN_STATUSES, Administration, AdministrationStatus, AlertKind, PlanEntry, RiskAlert, Timing
from rapport.plans.models import PlanVersion
from rapport.plans.selectors import plan_version_newest
from rapport.practice.models import ServiceKind
from rapport.practice.services import hash_token
from rapport.scheduling.models import Appointment, AppointmentStatus

logger = logging.getLogger("rapport.measures")

# The plan a case starts with (the issue: "PHQ-9 and GAD-7 before individual sessions, the
# alliance check-in after every session"). A couple answers our own check-ins, each partner on
# their own: the published questionnaires describe one person, not a relationship.
DEFAULT_PLANS: dict[str, tuple[tuple[str, str], ...]] = {
    CaseKind.INDIVIDUAL: (("phq9", Timing.BEFORE), ("gad7", Timing.BEFORE), ("alliance", Timing.AFTER)),
    CaseKind.COUPLE: (("presession", Timing.BEFORE), ("alliance", Timing.AFTER)),
}

# When a check-in can be answered [design]. Before a session: from three days ahead until the
# session ends (answered in the waiting room still counts). After it: from its end for three days,
# due within one, while the session is still fresh.
BEFORE_OPENS = timedelta(days=3)
AFTER_DUE = timedelta(days=1)
AFTER_EXPIRES = timedelta(days=3)

# The consent item a client pauses check-ins with (rapport.measures.pausing). A client who never
# decided on it is not paused; risk follow-up never depends on it.
PAUSE_ITEM = CHECK_INS

MAX_TEXT = 2000

# The instruments whose questions rate the treatment plan itself: the after-session check-in asks
# whether the session was about "what I want to get out of therapy" (the goals) and whether "how
# we spent the time" was a good way there (how we work). Their rows record the plan version they
# were answered against. Symptom questionnaires (PHQ-9, GAD-7) and the before-session check-in
# rate the client's week, not the plan, so a version on them would claim a link that is not there.
PLAN_RATING_INSTRUMENTS = frozenset({"alliance"})

NOT_YOURS = "This check-in belongs to someone else."
NOT_OPEN = "This check-in is not open yet."
EXPIRED = "This check-in has expired. Your therapist can send you a new one."
ALREADY_SENT = "This check-in has already been sent. Thank you."
CANCELLED = "This check-in was cancelled with its session."
CHANGED = "The questions of this check-in have changed since it was sent. Ask your therapist for a new one."


# --- The plan ----------------------------------------------------------------------------------------


def _plan_entries(case: Case) -> list[PlanEntry]:
    return list(PlanEntry.objects.filter(case=case).order_by("timing", "id"))


@transaction.atomic
def plan_entries_ensure(case: Case) -> list[PlanEntry]:
    """The case's plan entries (active or not), created from the defaults for its kind if it has none."""
    entries = _plan_entries(case)
    if entries:
        return entries
    for key, timing in DEFAULT_PLANS.get(case.kind, ()):
        PlanEntry.objects.get_or_create(case=case, instrument_key=key, timing=timing, defaults={"practice_id": case.practice_id})
    case_audit(actor=None, action=Action.CREATE, case=case, fields=["measurement_plan"])
    return _plan_entries(case)


def _plan_instrument(key: str) -> instruments.Instrument:
    try:
        instrument = instruments.load(key)
    except instruments.UnknownInstrument:
        known = ", ".join(sorted(instruments.load_all()))
        raise ValidationError(f"There is no instrument called {key!r}. Instruments available: {known}.") from None
    if instrument.data_collection_only:
        raise ValidationError(
            f"{instrument.name} is set up for data collection only: its wording is not shipped, so clients cannot "
            "be asked to answer it. Staff enter its answers from a licensed copy instead."
        )
    return instrument


@transaction.atomic
def plan_set(*, actor: User, case: Case, entries: Iterable[tuple[str, str]]) -> list[PlanEntry]:
    """Set the case's plan to exactly ``entries`` (instrument key, timing); only the case's therapist may.

    Unknown instruments, unknown timings and data-collection-only instruments are refused with a
    message and change nothing. Entries left out are turned off, not deleted.
    """
    if not (actor.is_authenticated and actor.role == Role.THERAPIST and case.primary_therapist.user_id == actor.pk):
        raise PermissionError("Only the therapist of this case can change its measurement plan.")
    wanted: set[tuple[str, str]] = set()
    for key, timing in entries:
        if timing not in Timing.values:
            raise ValidationError(f"{timing!r} is not a time to ask; choose before or after the session.")
        _plan_instrument(key)
        wanted.add((key, timing))
    current = {(e.instrument_key, e.timing): e for e in plan_entries_ensure(case)}
    for pair, entry in current.items():
        if entry.active != (pair in wanted):
            entry.active = pair in wanted
            entry.save(update_fields=["active", "updated_at"])
    for key, timing in sorted(wanted - set(current)):
        PlanEntry.objects.create(practice_id=case.practice_id, case=case, instrument_key=key, timing=timing)
    case_audit(actor=actor, action=Action.UPDATE, case=case, fields=["measurement_plan"])
    return _plan_entries(case)


# --- Administrations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedAdministration:
    administration: Administration
    token: str  # for the one-time link; only its hash is stored


def window(appointment: Appointment, timing: str) -> tuple[datetime, datetime, datetime]:
    """(opens_at, due_at, expires_at) of a check-in for this appointment."""
    if timing == Timing.BEFORE:
        return appointment.start - BEFORE_OPENS, appointment.start, appointment.end
    return appointment.end, appointment.end + AFTER_DUE, appointment.end + AFTER_EXPIRES


def check_ins_paused(client: Client) -> bool:
    """Whether the client has said no to check-ins (the consent item ``check_ins``); never deciding is not pausing."""
    return consent_state(client).get(PAUSE_ITEM) is False


@transaction.atomic
def administrations_for_appointment(appointment: Appointment, *, now: datetime) -> list[IssuedAdministration]:
    """Create the pending check-ins of each client of the appointment's case, per the case's plan.

    Idempotent: an appointment, client, instrument and timing get one administration ever (a
    unique constraint backs the check when two workers race). Nothing for a cancelled appointment,
    a consultation, an appointment without a case or of a closed case, a client who paused
    check-ins, or a check-in whose time to answer has already passed. Returns only the rows
    created by this call, each with its token.
    """
    # From the database: the caller's copy may predate a cancellation.
    appointment = Appointment.objects.select_related("service", "case__practice").get(pk=appointment.pk)
    case = appointment.case
    if (
        case is None
        or appointment.status == AppointmentStatus.CANCELLED
        or appointment.service.kind == ServiceKind.CONSULTATION
        or case.status == CaseStatus.CLOSED
    ):
        return []
    plan = [entry for entry in plan_entries_ensure(case) if entry.active]
    clients = [member.client for member in case.members.select_related("client").order_by("position")]
    plan_version: PlanVersion | None = None
    if any(entry.instrument_key in PLAN_RATING_INSTRUMENTS for entry in plan):
        plan_version = plan_version_newest(case)
    issued: list[IssuedAdministration] = []
    for client in clients:
        if check_ins_paused(client):
            continue
        for entry in plan:
            opens_at, due_at, expires_at = window(appointment, entry.timing)
            if expires_at <= now:
                continue
            exists = Administration.objects.filter(
                appointment=appointment, client=client, instrument_key=entry.instrument_key, timing=entry.timing
            ).exists()
            if exists:
                continue
            instrument = instruments.load(entry.instrument_key)
            token = secrets.token_urlsafe(32)
            try:
                with transaction.atomic():
                    administration = Administration.objects.create(
                        practice_id=case.practice_id,
                        case=case,
                        client=client,
                        appointment=appointment,
                        instrument_key=instrument.key,
                        instrument_version=instrument.version,
                        timing=entry.timing,
                        opens_at=opens_at,
                        due_at=due_at,
                        expires_at=expires_at,
                        token_hash=hash_token(token),
                        token=token,
                        plan_version=plan_version if instrument.key in PLAN_RATING_INSTRUMENTS else None,
                    )
            except IntegrityError:
                # Another worker created it between the check and the insert.
                continue
            administration_audit(administration, actor=None, action=Action.CREATE, instrument=instrument.key, timing=entry.timing)
            issued.append(IssuedAdministration(administration=administration, token=token))
    return issued


def _audit_status(administration: Administration, change: str) -> None:
    administration_audit(administration, actor=None, action=Action.UPDATE, fields=[change])


@transaction.atomic
def administrations_cancel_for_appointment(appointment: Appointment) -> int:
    """Cancel the appointment's check-ins not yet sent (a scheduling hook); answered ones stay as they are."""
    rows = list(Administration.objects.select_related("client", "case__practice").filter(appointment=appointment, status__in=OPEN_STATUSES))
    for administration in rows:
        administration.status = AdministrationStatus.CANCELLED
        administration.save(update_fields=["status", "updated_at"])
        _audit_status(administration, "cancelled")
    return len(rows)


@transaction.atomic
def administrations_expire(*, now: datetime) -> int:
    """Mark open check-ins whose time to answer has passed as expired (a periodic task).

    Answering one was already refused after ``expires_at``; this makes the row say so, for the
    therapist's view and for reports. Partial answers stay, and so does any alert they raised.
    Each row is claimed with a conditional UPDATE, so two workers never expire (or audit) it twice.
    """
    expired = 0
    due = Administration.objects.select_related("client", "practice").filter(status__in=OPEN_STATUSES, expires_at__lte=now)
    for administration in due:
        claimed = Administration.objects.filter(pk=administration.pk, status__in=OPEN_STATUSES).update(
            status=AdministrationStatus.EXPIRED, updated_at=now
        )
        if claimed:
            _audit_status(administration, "expired")
            expired += 1
    return expired


@transaction.atomic
def administrations_move_for_appointment(appointment: Appointment) -> int:
    """Follow a moved appointment: open check-ins take the new session's times (a scheduling hook)."""
    rows = list(Administration.objects.select_related("client", "case__practice").filter(appointment=appointment, status__in=OPEN_STATUSES))
    for administration in rows:
        administration.opens_at, administration.due_at, administration.expires_at = window(appointment, administration.timing)
        administration.save(update_fields=["opens_at", "due_at", "expires_at", "updated_at"])
        _audit_status(administration, "moved")
    return len(rows)


# --- Answers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveResult:
    administration: Administration
    score: scoring.Score  # of the answers so far; a partial save's total may be "not scorable"
    alert: RiskAlert | None  # the administration's alert, raised now or earlier

    @property
    def show_crisis_resources(self) -> bool:
        """A risk answer was given: the page shows the practice's crisis resources at once (MEASURES.md §4.9)."""
        return bool(self.score.risk)


def _check_access(administration: Administration, *, actor: User | None, token: str | None) -> None:
    if token is not None:
        if actor is not None and actor.is_authenticated:
            raise PermissionError("Use either the link or your account, not both.")
        if not hmac.compare_digest(hash_token(token), administration.token_hash):
            raise PermissionError(NOT_YOURS)
        return
    client_user = administration.client.user_id
    if actor is None or not actor.is_authenticated or actor.role != Role.CLIENT or client_user is None or client_user != actor.pk:
        raise PermissionError(NOT_YOURS)


def _check_open(administration: Administration, now: datetime) -> None:
    if administration.status == AdministrationStatus.COMPLETED:
        raise ValidationError(ALREADY_SENT)
    if administration.status == AdministrationStatus.CANCELLED:
        raise ValidationError(CANCELLED)
    if administration.status == AdministrationStatus.EXPIRED or administration.expires_at <= now:
        raise ValidationError(EXPIRED)
    if administration.opens_at > now:
        raise ValidationError(NOT_OPEN)


def _merged(instrument: instruments.Instrument, stored: Mapping[str, Any] | None, new: Mapping[str, object]) -> dict[str, Any]:
    merged: dict[str, Any] = dict(stored or {})
    for item_id, value in new.items():
        if isinstance(value, str):
            value = value.strip()
            if len(value) > MAX_TEXT:
                raise ValidationError(f"{instrument.key}: {item_id}: at most {MAX_TEXT} characters, please.")
        if value is None or value == "":
            merged.pop(item_id, None)
        else:
            merged[item_id] = value
    # Unknown items and out-of-range values are refused here, before anything is written.
    try:
        scoring.score(instrument, merged)
    except scoring.AnswerError as exc:
        raise ValidationError(str(exc)) from None
    return merged


def answers_save(
    *,
    administration: Administration,
    answers: Mapping[str, object],
    final: bool,
    actor: User | None = None,
    token: str | None = None,
    now: datetime | None = None,
) -> SaveResult:
    """Save answers to a check-in, by its client (signed in) or through its one-time link (``token``).

    A partial save (``final=False``) merges ``answers`` into those saved before (None or blank text
    removes one) and marks the check-in started. The final save also scores it (``scoring.score``),
    stores the score with the instrument version, and closes it; a second final save, an expired or
    cancelled check-in, someone else's, an unknown item or an out-of-range value is refused with a
    message and stores nothing.

    A risk answer raises the administration's ``RiskAlert`` in this same transaction, on a partial
    save too: a client who answers item 9 and then closes the page must still reach a person. A
    risk item left unanswered raises one at the final save (MEASURES.md §1.4 leaves this to us;
    Rapport treats it as unknown risk that a person should ask about). The therapist's email goes
    out once the transaction commits.
    """
    now = now or timezone.now()
    with transaction.atomic():
        row = Administration.objects.select_for_update(of=("self",)).select_related("client", "case__practice").get(pk=administration.pk)
        _check_access(row, actor=actor, token=token)
        _check_open(row, now)
        instrument = instruments.load(row.instrument_key)
        if instrument.version != row.instrument_version:
            raise ValidationError(CHANGED)
        merged = _merged(instrument, row.answers, answers)
        result = scoring.score(instrument, merged)
        if final:
            # The client rates the plan as it stands when they answer, which may be newer than the
            # version current when the check-in was created (a goal reworded in the session).
            plan_version = plan_version_newest(row.case) if row.instrument_key in PLAN_RATING_INSTRUMENTS else None
            # The claim: only one final save can move the row out of the open states.
            claimed = Administration.objects.filter(pk=row.pk, status__in=OPEN_STATUSES, expires_at__gt=now).update(
                plan_version=plan_version,
                status=AdministrationStatus.COMPLETED,
                submitted_at=now,
                total=result.total,
                raw_total=result.raw_total,
                band=result.band or "",
                scorable=result.scorable,
                prorated=result.prorated,
                risk=list(result.risk),
                risk_unanswered=list(result.risk_unanswered),
                updated_at=now,
            )
            if claimed != 1:
                raise ValidationError(ALREADY_SENT)
            row.refresh_from_db(
                fields=[
                    "status",
                    "submitted_at",
                    "total",
                    "raw_total",
                    "band",
                    "scorable",
                    "prorated",
                    "risk",
                    "risk_unanswered",
                    "plan_version",
                ]
            )
            row.answers = merged
            row.save(update_fields=["answers", "updated_at"])
        else:
            row.answers = merged
            row.status = AdministrationStatus.IN_PROGRESS
            row.save(update_fields=["answers", "status", "updated_at"])
        administration_audit(
            row, actor=actor, action=Action.UPDATE, fields=["answers"], submitted=final, via="link" if token is not None else "portal"
        )
        alert = RiskAlert.objects.filter(administration=row).first()
        if alert is None:
            if result.risk:
                alert = alert_raise(administration=row, kind=AlertKind.RISK_ANSWER, actor=actor, now=now)
            elif final and result.risk_unanswered:
                alert = alert_raise(administration=row, kind=AlertKind.RISK_UNANSWERED, actor=actor, now=now)
    return SaveResult(administration=row, score=result, alert=alert)
