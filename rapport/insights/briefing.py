"""The pre-session briefing: what a therapist reads in the two minutes before one session.

``briefing_gather`` collects, for one appointment of a case, everything the briefing page shows:
each client's after-session ratings (goals, tasks, bond), their outcome questionnaires over time
(the series the results page draws), the case's open signals, the plan items waiting for an answer
or showing a difference, the action steps done since the previous session and those still open,
and what each client wrote they want to talk about in this session's pre-session check-in.

The number of queries does not depend on how long the case has run: every list is one query, and
``plans.selectors.items_needing_attention`` reads the plan in a fixed number too.

What is recorded, by ``briefing_record`` on every showing: one "view" of the briefing per client of
the case (scores, after-session ratings, signals, plan and steps), and one read of the answers of
each pre-session check-in quoted, against the client who wrote it. The page may show a briefing
gathered earlier: ``briefing_version`` is a digest of every row it reads, so a cached copy is
reused only while nothing it shows has changed.

``session_checkins`` gives the workspace home its badges: counts only, no answer, in one query.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import Entry, audit_record_many
from rapport.clients.case_audit import case_audit_entries
from rapport.clients.models import Case, Client
from rapport.clients.selectors import case_members
from rapport.core.statements import fetch_all
from rapport.insights.models import Signal
from rapport.insights.selectors import OPEN
from rapport.measures.audit import administration_audit_entry
from rapport.measures.models import Administration, AdministrationStatus, Timing
from rapport.measures.series import InstrumentSeries, results_of
from rapport.plans.models import ActionStep
from rapport.plans.selectors import ItemView, items_needing_attention
from rapport.scheduling.models import Appointment, AppointmentStatus

ALLIANCE = "alliance"
ALLIANCE_ITEMS = ("goals", "tasks", "bond")
PRESESSION = "presession"
AGENDA = "agenda"
# The check-in statuses that can no longer turn into "done" for a session.
MISSED = (AdministrationStatus.EXPIRED,)


@dataclass(frozen=True)
class AlliancePoint:
    """One after-session check-in: each item 0-10 as the client answered it (None: left blank), and the stored total."""

    when: datetime
    goals: int | None
    tasks: int | None
    bond: int | None
    total: int | None


@dataclass(frozen=True)
class ClientAlliance:
    client: Client
    label: str  # the client's name, told apart by position when two share one
    points: tuple[AlliancePoint, ...]


@dataclass(frozen=True)
class BeforeSession:
    """One client's check-ins before this session: how many were asked, how many sent, and their words."""

    client: Client
    label: str
    asked: int
    done: int
    agenda: str  # "" when the client wrote nothing (or has not sent the pre-session check-in)


@dataclass(frozen=True)
class Briefing:
    appointment: Appointment
    case: Case
    labels: tuple[tuple[Client, str], ...]  # the case's clients in order, with their chart labels
    previous: Appointment | None  # the last session of the case before this one that took place or may have
    alliance: tuple[ClientAlliance, ...]
    outcomes: tuple[tuple[str, tuple[InstrumentSeries, ...]], ...]  # per client label: validated questionnaires only
    signals: tuple[Signal, ...]  # open ones, most severe first
    needing_attention: tuple[ItemView, ...]
    steps_done: tuple[ActionStep, ...]  # done since the previous session (all done ones without a previous session)
    steps_open: tuple[ActionStep, ...]
    before: tuple[BeforeSession, ...]
    # What reading this briefing records, in the reader's name (briefing_record): one view per
    # client, and one read of the answers of each pre-session check-in whose words it quotes.
    reads: tuple[Entry, ...]


@dataclass(frozen=True)
class SessionCheckins:
    """A badge's numbers for one session: check-ins asked before it, sent, and no longer answerable."""

    asked: int
    done: int
    missed: int


def labels_for(clients: Sequence[Client]) -> list[str]:
    """One label per client: a chart needs distinct names, so two clients with one name get their position."""
    names = [client.full_name for client in clients]
    return [f"{name} ({index})" if names.count(name) > 1 else name for index, name in enumerate(names, start=1)]


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _alliance(case: Case, clients: Sequence[Client], labels: Sequence[str]) -> tuple[ClientAlliance, ...]:
    rows = (
        Administration.objects.filter(case=case, instrument_key=ALLIANCE, status=AdministrationStatus.COMPLETED, submitted_at__isnull=False)
        # public_id too: it is bound into the encrypted answers, and a deferred one would cost a query per row.
        .only("public_id", "client_id", "submitted_at", "total", "answers")
        .order_by("submitted_at", "id")
    )
    by_client: dict[int, list[AlliancePoint]] = {client.pk: [] for client in clients}
    for row in rows:
        answers = row.answers or {}
        assert row.submitted_at is not None  # filtered above
        point = AlliancePoint(
            when=row.submitted_at,
            goals=_int(answers.get("goals")),
            tasks=_int(answers.get("tasks")),
            bond=_int(answers.get("bond")),
            total=row.total,
        )
        by_client.setdefault(row.client_id, []).append(point)
    return tuple(
        ClientAlliance(client=client, label=label, points=tuple(by_client[client.pk]))
        for client, label in zip(clients, labels, strict=True)
    )


def _previous(appointment: Appointment) -> Appointment | None:
    assert appointment.case_id is not None
    return (
        Appointment.objects.filter(case_id=appointment.case_id, start__lt=appointment.start)
        .exclude(status__in=[AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW])
        .order_by("-start", "-id")
        .first()
    )


def _steps(case: Case, since: datetime | None) -> tuple[tuple[ActionStep, ...], tuple[ActionStep, ...]]:
    recent_done = Q(done_at__isnull=False) if since is None else Q(done_at__gte=since)
    steps = list(
        ActionStep.objects.filter(item__plan__case=case, item__removed_in__isnull=True)
        .filter(Q(done_at__isnull=True) | recent_done)
        .select_related("client")
        .order_by("due_on", "id")
    )
    return tuple(s for s in steps if s.done_at is not None), tuple(s for s in steps if s.done_at is None)


def _before(
    appointment: Appointment, clients: Sequence[Client], labels: Sequence[str]
) -> tuple[tuple[BeforeSession, ...], list[Administration]]:
    """Each client's check-ins before the session, and the pre-session check-ins whose words are quoted."""
    rows = list(
        Administration.objects.filter(appointment=appointment, timing=Timing.BEFORE)
        .exclude(status=AdministrationStatus.CANCELLED)
        .select_related("client", "practice")
        .order_by("id")
    )
    shown, quoted = [], []
    for client, label in zip(clients, labels, strict=True):
        mine = [row for row in rows if row.client_id == client.pk]
        agenda = ""
        for row in mine:
            if row.instrument_key == PRESESSION and row.status == AdministrationStatus.COMPLETED:
                # Reading the client's words is a read of their answers: briefing_record records it against them.
                text = (row.answers or {}).get(AGENDA)
                agenda = text.strip() if isinstance(text, str) else ""
                quoted.append(row)
        done = sum(1 for row in mine if row.status == AdministrationStatus.COMPLETED)
        shown.append(BeforeSession(client=client, label=label, asked=len(mine), done=done, agenda=agenda))
    return tuple(shown), quoted


def briefing_check(user: User, appointment: Appointment, case: Case) -> None:
    """Only the case's own therapist, who is also the appointment's, gets a briefing: it names
    both partners of a couple and quotes what each wrote. PermissionDenied for anyone else."""
    treating = user.is_authenticated and user.role == Role.THERAPIST and case.primary_therapist.user_id == user.pk
    if not treating or appointment.case_id != case.pk or appointment.therapist.user_id != user.pk:
        raise PermissionDenied("Only the case's therapist reads the briefing for its sessions.")


def briefing_gather(*, user: User, appointment: Appointment, case: Case) -> Briefing:
    """Everything the briefing shows for ``appointment`` of ``case``, for the case's therapist.

    Records nothing by itself: whoever shows it calls :func:`briefing_record`, each time. The
    caller has fetched the appointment through ``scheduling.calendar.appointment_get_for_user``
    and the case through the case selector.
    """
    briefing_check(user, appointment, case)
    clients = [member.client for member in case_members(case)]
    labels = labels_for(clients)
    previous = _previous(appointment)
    results = results_of(clients, case=case)
    outcomes = tuple(
        (label, tuple(series for series in results[client.pk] if series.instrument.validated))
        for client, label in zip(clients, labels, strict=True)
    )
    signals = tuple(
        Signal.objects.filter(case=case, status__in=OPEN)
        .select_related("client", "acknowledged_by", "resolved_by", "previous")
        .order_by("-severity", "-occurred_on", "-id")
    )
    steps_done, steps_open = _steps(case, previous.start if previous is not None else None)
    before, quoted = _before(appointment, clients, labels)
    reads = case_audit_entries(
        actor=user,
        action=Action.VIEW,
        case=case,
        object_type="insights.briefing",
        object_id=appointment.public_id,
        fields=["scores", "alliance", "signals", "plan", "steps"],
        clients=clients,
    ) + [administration_audit_entry(row, action=Action.VIEW, fields=["answers"]) for row in quoted]
    return Briefing(
        appointment=appointment,
        case=case,
        labels=tuple(zip(clients, labels, strict=True)),
        previous=previous,
        alliance=_alliance(case, clients, labels),
        outcomes=outcomes,
        signals=signals,
        needing_attention=tuple(items_needing_attention(case)),
        steps_done=steps_done,
        steps_open=steps_open,
        before=before,
        reads=tuple(reads),
    )


def briefing_record(*, user: User, reads: Sequence[Entry], request: HttpRequest | None = None) -> None:
    """Record that ``user`` read a briefing (its ``reads``): every time it is shown, gathered afresh or not."""
    audit_record_many(actor=user, entries=reads, request=request)


def briefing_version(appointment_id: uuid.UUID) -> str:
    """A digest that changes whenever anything the briefing of the appointment ``appointment_id``
    shows, or anything that decides who may open it, may have changed.

    One statement lists the id and ``updated_at`` of every row the page and its checks read: the
    appointment, its therapist and practice (the dates' time zone, the practice's name), the case
    and its primary therapist, its members and their client records, its appointments (and their
    services), check-ins and signals (and the staff named on them), its plan with its versions,
    items, wordings, answers and action steps. Every model here stamps ``updated_at`` on each save
    and each ``QuerySet.update`` (rapport.core.models), a new row adds a line and a deleted one
    removes it, so any such change changes the digest. Take it *before* reading anything else: a
    change made meanwhile then costs one more gathering, never a stale page. It reads no content,
    only ids and times, and says nothing to anyone: it is only ever a cache key.
    """
    if connection.vendor == "postgresql":
        # Hashed in the database: one short row back instead of a hundred.
        return str(fetch_all(_VERSION_DIGEST_SQL, [appointment_id])[0][0] or "")
    prepared = Appointment._meta.get_field("public_id").get_db_prep_value(appointment_id, connection)
    digest = hashlib.sha256()
    for line in sorted(repr(row) for row in fetch_all(_VERSION_SQL, [prepared])):
        digest.update(line.encode())
    return digest.hexdigest()


# Every row the page and its checks read, as (what, id, updated_at). Plain SQL, one statement with
# one parameter (the appointment's public id): it runs on every opening, and the ORM would take
# longer to build it than the database takes to run it.
_VERSION_WITH = (
    "WITH target AS (SELECT id, case_id, therapist_id, practice_id, updated_at FROM scheduling_appointment WHERE public_id = %s),"
    " cases AS (SELECT id, primary_therapist_id, updated_at FROM clients_case WHERE id IN (SELECT case_id FROM target)),"
    " plans AS (SELECT id, updated_at FROM plans_treatmentplan WHERE case_id IN (SELECT id FROM cases)),"
    " items AS (SELECT id, updated_at FROM plans_planitem WHERE plan_id IN (SELECT id FROM plans)) "
)
_VERSION_ROWS = (
    "SELECT 'this', id, updated_at FROM target"
    " UNION ALL "
    "SELECT 'practice', id, updated_at FROM practice_practice WHERE id IN (SELECT practice_id FROM target)"
    " UNION ALL "
    "SELECT 'therapist', id, updated_at FROM practice_therapist"
    " WHERE id IN (SELECT therapist_id FROM target UNION SELECT primary_therapist_id FROM cases)"
    " UNION ALL "
    "SELECT 'case', id, updated_at FROM cases"
    " UNION ALL "
    "SELECT 'member', id, updated_at FROM clients_casemember WHERE case_id IN (SELECT id FROM cases)"
    " UNION ALL "
    "SELECT 'client', id, updated_at FROM clients_client"
    " WHERE id IN (SELECT client_id FROM clients_casemember WHERE case_id IN (SELECT id FROM cases))"
    " UNION ALL "
    "SELECT 'appointment', id, updated_at FROM scheduling_appointment WHERE case_id IN (SELECT id FROM cases)"
    " UNION ALL "
    "SELECT 'service', id, updated_at FROM practice_service"
    " WHERE id IN (SELECT service_id FROM scheduling_appointment WHERE case_id IN (SELECT id FROM cases))"
    " UNION ALL "
    "SELECT 'checkin', id, updated_at FROM measures_administration WHERE case_id IN (SELECT id FROM cases)"
    " UNION ALL "
    "SELECT 'signal', id, updated_at FROM insights_signal WHERE case_id IN (SELECT id FROM cases)"
    " UNION ALL "
    "SELECT 'staff', id, updated_at FROM accounts_user WHERE id IN"
    " (SELECT acknowledged_by_id FROM insights_signal WHERE case_id IN (SELECT id FROM cases)"
    " UNION SELECT resolved_by_id FROM insights_signal WHERE case_id IN (SELECT id FROM cases))"
    " UNION ALL "
    "SELECT 'plan', id, updated_at FROM plans"
    " UNION ALL "
    "SELECT 'plan version', id, updated_at FROM plans_planversion WHERE plan_id IN (SELECT id FROM plans)"
    " UNION ALL "
    "SELECT 'item', id, updated_at FROM items"
    " UNION ALL "
    "SELECT 'wording', id, updated_at FROM plans_itemrevision WHERE item_id IN (SELECT id FROM items)"
    " UNION ALL "
    "SELECT 'answer', id, updated_at FROM plans_agreement"
    " WHERE revision_id IN (SELECT id FROM plans_itemrevision WHERE item_id IN (SELECT id FROM items))"
    " UNION ALL "
    "SELECT 'step', id, updated_at FROM plans_actionstep WHERE item_id IN (SELECT id FROM items)"
)
_VERSION_SQL = _VERSION_WITH + _VERSION_ROWS
# The same rows, hashed by PostgreSQL in a fixed order: (what, id) is unique.
_VERSION_DIGEST_SQL = (
    _VERSION_WITH  # noqa: S608 - constants only
    + "SELECT encode(sha256(convert_to(string_agg(concat_ws(' ', what, id, updated_at), ',' ORDER BY what, id), 'UTF8')), 'hex')"
    + f" FROM ({_VERSION_ROWS}) AS version_rows(what, id, updated_at)"
)


def session_checkins(appointments: Sequence[Appointment]) -> dict[int, SessionCheckins]:
    """Per appointment id: the check-ins asked before it, sent, and expired unanswered. One query, counts only."""
    counts: dict[int, list[int]] = {}
    rows = (
        Administration.objects.filter(appointment__in=[a.pk for a in appointments], timing=Timing.BEFORE)
        .exclude(status=AdministrationStatus.CANCELLED)
        .values_list("appointment_id", "status")
    )
    for appointment_id, status in rows:
        asked_done_missed = counts.setdefault(appointment_id, [0, 0, 0])
        asked_done_missed[0] += 1
        asked_done_missed[1] += status == AdministrationStatus.COMPLETED
        asked_done_missed[2] += status in MISSED
    return {key: SessionCheckins(asked=a, done=d, missed=m) for key, (a, d, m) in counts.items()}
