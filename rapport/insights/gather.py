"""One case's stored data, turned into the detectors' plain inputs, and the detectors run over it.

A fixed number of queries per case, whatever its length: the completed check-ins (answers
included, since the alliance items and the written notes live there), the risk alerts, the
appointments, the past pre-session check-ins and the goal ratings. Dates are the practice's local
dates, the day a client would name.

This reads clinical data on nobody's behalf; ``services.signals_detect`` records the read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from rapport.clients.models import Case, Client
from rapport.clients.selectors import case_members
from rapport.insights import detectors as d
from rapport.insights.text import affect
from rapport.measures import instruments
from rapport.measures.instruments import Instrument, UnknownInstrument
from rapport.measures.models import Administration, AdministrationStatus, RiskAlert, Timing
from rapport.measures.series import change_rule
from rapport.plans.models import GoalRating, ItemRevision, RaterRole
from rapport.scheduling.models import Appointment, AppointmentStatus

COUPLE = "case"
ALLIANCE = "alliance"
# Free-text items whose words are read for words versus scores, and what to call them.
NOTE_ITEMS = {("presession", "agenda"): "pre-session note", ("alliance", "note"): "after-session note"}
# The outcome measure a note is set against: the first of these the client has.
PRIMARY_OUTCOMES = ("phq9", "gad7")


@dataclass(frozen=True)
class Found:
    """A finding and the client it is about (None: about the couple as a couple)."""

    client: Client | None
    finding: d.Finding


def subject_of(client: Client) -> str:
    return str(client.public_id)


def _local(value: datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date()


def _instrument(key: str) -> Instrument | None:
    try:
        return instruments.load(key)
    except UnknownInstrument:
        return None


def _session_day(row: Administration, zone: ZoneInfo) -> date:
    moment = row.appointment.start if row.appointment is not None else row.submitted_at
    assert moment is not None  # completed rows have submitted_at
    return _local(moment, zone)


def _outcome_series(client: Client, key: str, rows: Sequence[Administration], zone: ZoneInfo) -> d.OutcomeSeries | None:
    instrument = _instrument(key)
    if instrument is None:
        return None
    rule = change_rule(instrument)
    if not rule.applies or rule.threshold is None:
        return None
    cutoff = instrument.caseness_cutoff
    points = [
        d.Observation(_session_day(row, zone), float(row.total), instrument.abbreviation or instrument.name)
        for row in rows
        if row.total is not None
    ]
    return d.OutcomeSeries(
        instrument=key,
        name=instrument.abbreviation or instrument.name,
        points=points,
        rule=d.ChangeRule(points=rule.threshold, source=rule.source),
        higher_is_better=instrument.higher_is_better,
        cutoff=None if cutoff is None or cutoff.at_least is None else float(cutoff.at_least),
    )


def case_findings(case: Case, *, now: datetime) -> list[Found]:
    """Every finding the detectors make over this case's data up to ``now``."""
    zone = ZoneInfo(case.practice.time_zone)
    clients = [member.client for member in case_members(case)]
    by_pk = {client.pk: client for client in clients}
    found: list[Found] = []

    completed = list(
        Administration.objects.filter(case=case, status=AdministrationStatus.COMPLETED, submitted_at__isnull=False)
        .select_related("appointment")
        .order_by("submitted_at", "id")
    )
    alliance: dict[int, list[d.AllianceCheckin]] = defaultdict(list)
    outcome_rows: dict[tuple[int, str], list[Administration]] = defaultdict(list)
    notes: dict[int, list[d.WrittenNote]] = defaultdict(list)
    for row in completed:
        answers = row.answers or {}
        day = _session_day(row, zone)
        if row.instrument_key == ALLIANCE and row.total is not None:
            items = {key: float(answers[key]) for key in ("goals", "tasks", "bond") if isinstance(answers.get(key), int)}
            session = str(row.appointment.public_id) if row.appointment is not None else day.isoformat()
            alliance[row.client_id].append(d.AllianceCheckin(on=day, total=float(row.total), items=items, session=session))
        else:
            outcome_rows[(row.client_id, row.instrument_key)].append(row)
        for (key, note_item), where in NOTE_ITEMS.items():
            text = answers.get(note_item) if row.instrument_key == key else None
            if isinstance(text, str) and text.strip():
                felt = affect(text)
                notes[row.client_id].append(d.WrittenNote(on=day, compound=felt.compound, phrases=felt.phrases, where=where))

    for client in clients:
        subject = subject_of(client)
        found += [Found(client, f) for f in d.alliance_rupture(alliance[client.pk], subject=subject)]
        series = {
            key: s
            for (client_pk, key), rows in outcome_rows.items()
            if client_pk == client.pk and (s := _outcome_series(client, key, rows, zone)) is not None
        }
        for one in series.values():
            found += [Found(client, f) for f in d.reliable_deterioration(one, subject=subject)]
            found += [Found(client, f) for f in d.not_on_track(one, subject=subject)]
        primary = next((series[key] for key in PRIMARY_OUTCOMES if key in series), None)
        if primary is not None:
            found += [Found(client, f) for f in d.words_versus_scores(notes[client.pk], primary, subject=subject)]
    if len(clients) == 2:
        first, second = clients
        found += [Found(None, f) for f in d.split_alliance(alliance[first.pk], alliance[second.pk], subject=COUPLE)]

    alerts = RiskAlert.objects.filter(case=case).select_related("administration").order_by("raised_at", "id")
    for alert in alerts:
        instrument = _instrument(alert.administration.instrument_key)
        ids = alert.administration.risk or alert.administration.risk_unanswered
        numbers = {item.id: item.number for item in instrument.items} if instrument is not None else {}
        answer = d.RiskAnswer(
            on=_local(alert.raised_at, zone),
            subject=subject_of(by_pk[alert.client_id]),
            instrument=(instrument.abbreviation or instrument.name) if instrument is not None else alert.administration.instrument_key,
            item=", ".join(numbers.get(i, i) for i in ids),
            acknowledged=alert.acknowledged_at is not None,
            topic=str(alert.public_id),
            unanswered=not alert.administration.risk and bool(alert.administration.risk_unanswered),
        )
        found += [Found(by_pk[alert.client_id], f) for f in d.risk_answers([answer])]

    appointments = list(Appointment.objects.filter(case=case, start__lt=now).order_by("start", "id"))
    booked_after = list(
        Appointment.objects.filter(case=case, status__in=[AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED]).values_list(
            "start", flat=True
        )
    )
    outcomes = []
    for appointment in appointments:
        if appointment.status == AppointmentStatus.COMPLETED:
            outcome = "attended"
        elif appointment.status == AppointmentStatus.NO_SHOW:
            outcome = "no_show"
        elif appointment.status == AppointmentStatus.CANCELLED and appointment.late_cancellation:
            outcome = "late_cancel"
        else:
            continue
        rebooked = any(start > appointment.start for start in booked_after)
        outcomes.append(d.SessionOutcome(on=_local(appointment.start, zone), outcome=outcome, rebooked=rebooked))
    attended = [o.on for o in outcomes if o.outcome == "attended"]
    pre = (
        Administration.objects.filter(
            case=case,
            timing=Timing.BEFORE,
            due_at__lt=now,
            status__in=[AdministrationStatus.COMPLETED, AdministrationStatus.EXPIRED],
        )
        .select_related("appointment")
        .order_by("due_at", "id")
        .only("client_id", "status", "due_at", "appointment__start")
    )
    due: dict[tuple[int, date], bool] = {}
    for row in pre:
        day = _local(row.appointment.start if row.appointment is not None else row.due_at, zone)
        # Two instruments before one session are one check-in to the client: done if either was.
        due[(row.client_id, day)] = due.get((row.client_id, day), False) or row.status == AdministrationStatus.COMPLETED
    for client in clients:
        mine = [
            d.CheckinDue(on=day, done=done)
            for (client_pk, day), done in sorted(due.items(), key=lambda kv: kv[0][1])
            if client_pk == client.pk
        ]
        found += [Found(client, f) for f in d.disengagement(outcomes if len(clients) == 1 else [], mine, subject=subject_of(client))]
    if len(clients) == 2:
        found += [Found(None, f) for f in d.disengagement(outcomes, [], subject=COUPLE)]

    ratings = (
        GoalRating.objects.filter(item__plan__case=case, item__removed_in__isnull=True).select_related("item").order_by("rated_at", "id")
    )
    histories: dict[tuple[int, str, int | None], list[GoalRating]] = defaultdict(list)
    for rating in ratings:
        histories[(rating.item_id, rating.rater_role, rating.client_id)].append(rating)
    # The current wording of each rated goal, in one query: the newest revision per item.
    words = {
        revision.item_id: revision.client_words
        for revision in ItemRevision.objects.filter(item_id__in={key[0] for key in histories}).order_by("item_id", "number")
    }
    for (item_pk, role, client_pk), rows in histories.items():
        item = rows[0].item
        goal = d.GoalHistory(
            goal=f"{item.public_id}:{role}",
            words=words[item_pk],
            ratings=[
                d.Observation(
                    _local(r.rated_at, zone),
                    float(r.level),
                    "rated by the client" if role == RaterRole.CLIENT else "rated by the therapist",
                )
                for r in rows
            ],
        )
        about = by_pk.get(client_pk) if client_pk is not None else (by_pk.get(item.owner_id) if item.owner_id else None)
        subject = subject_of(about) if about is not None else COUPLE if len(clients) == 2 else subject_of(clients[0])
        found += [
            Found(about if about is not None or len(clients) == 2 else clients[0], f)
            for f in d.goal_stagnation(goal, attended, subject=subject)
        ]
    return found
