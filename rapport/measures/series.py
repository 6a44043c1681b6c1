"""Check-in results over time: each client's completed check-ins per instrument, with reliable change.

Built from the **stored** score columns of each completed administration (``total``, ``band``,
``scorable``, ``prorated``), never from the encrypted answers: the answers and the instrument
version are the source of truth, and the score columns are kept, derived from them at submission,
so that lists and charts need not decrypt and score again (docs/checkins.md).

Reliable change compares each later score with the client's **first scorable** score on that
instrument, by the rule the instrument publishes (``change.instrument_change``: the fixed NHS Talking
Therapies thresholds for the PHQ-9 and GAD-7). An instrument without one gets no classification, and
the series says why in words: the Jacobson & Truax index needs a reference SD that Rapport does not
hold (MEASURES.md §1.8: "the SD should be the practice's own intake SD"), and Rapport's own check-ins
are not validated, so no rule applies to them at all.

Reading results is a clinical read. The two public selectors check who is asking and record the read:
``client_results_read`` (a client's own) and ``case_results_read`` (the case's therapist, every client
of the case). Neither reads an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.case_audit import case_audit
from rapport.clients.models import Case, Client
from rapport.measures import instruments
from rapport.measures.change import NO_RELIABLE_CHANGE, Change, instrument_change
from rapport.measures.instruments import Instrument, UnknownInstrument
from rapport.measures.models import Administration, AdministrationStatus

# Why an instrument has no reliable-change classification, in words shown to the therapist.
NOT_VALIDATED = "This is Rapport's own check-in. It is not clinically validated, so no reliable-change rule applies to it."
NO_PUBLISHED_RULE = (
    "This questionnaire has no published fixed reliable-change threshold in its file. The Jacobson & Truax "
    "index would need a reference standard deviation (the practice's own intake SD), which Rapport does not hold yet."
)


@dataclass(frozen=True)
class ChangeRule:
    """How reliable change is decided on one instrument, or why it is not."""

    applies: bool
    threshold: float | None = None  # the smallest change, in points, that counts as reliable
    rule: str = ""  # "fixed_threshold" or "jacobson_truax"
    source: str = ""  # the citation of the rule
    why_not: str = ""  # when it does not apply


@dataclass(frozen=True)
class SeriesPoint:
    """One completed check-in: when it was sent and its stored score."""

    administration_id: str  # the administration's public id
    case_id: str  # the public id of the case it was asked for
    when: datetime  # when the client sent it (aware, UTC)
    total: int | None  # None when it could not be scored
    band: str  # the stored band key ("" without bands or without a total)
    band_label: str  # the instrument's published word for ``band`` ("" when none)
    scorable: bool
    prorated: bool
    change: Change | None  # against the first scorable score; None for that score itself, no total, or no rule


@dataclass(frozen=True)
class InstrumentSeries:
    """One client's completed check-ins on one instrument, oldest first."""

    client: Client
    instrument: Instrument
    points: tuple[SeriesPoint, ...]
    rule: ChangeRule

    @property
    def scored(self) -> tuple[SeriesPoint, ...]:
        return tuple(point for point in self.points if point.total is not None)

    @property
    def baseline(self) -> SeriesPoint | None:
        scored = self.scored
        return scored[0] if scored else None

    @property
    def latest(self) -> SeriesPoint | None:
        scored = self.scored
        return scored[-1] if scored else None

    @property
    def latest_change(self) -> Change | None:
        latest = self.latest
        return latest.change if latest is not None else None

    @property
    def changes_to_mark(self) -> tuple[SeriesPoint, ...]:
        """The points where the classification against the first score turns reliable (or flips).

        A reliable change that lasts over several check-ins is marked once, where it begins, so a
        chart of a long course is not covered in stars; the table and the description still give
        every score.
        """
        marked = []
        previous = NO_RELIABLE_CHANGE
        for point in self.scored:
            if point.change is None:
                continue
            current = point.change.classification
            if current != NO_RELIABLE_CHANGE and current != previous:
                marked.append(point)
            previous = current
        return tuple(marked)


def change_rule(instrument: Instrument) -> ChangeRule:
    """The reliable-change rule Rapport applies to ``instrument`` without practice data."""
    if not instrument.validated:
        return ChangeRule(applies=False, why_not=NOT_VALIDATED)
    if instrument.reliable_change is not None:
        return ChangeRule(
            applies=True,
            threshold=instrument.reliable_change.points,
            rule="fixed_threshold",
            source=instrument.reliable_change.citation.text,
        )
    return ChangeRule(applies=False, why_not=NO_PUBLISHED_RULE)


def _completed(clients: Sequence[Client], case: Case | None) -> list[Administration]:
    rows = Administration.objects.filter(client__in=clients, status=AdministrationStatus.COMPLETED, submitted_at__isnull=False)
    if case is not None:
        rows = rows.filter(case=case)
    # Only the columns a series needs: the encrypted answers are not fetched, let alone decrypted.
    return list(
        rows.select_related("case")
        .only("public_id", "client_id", "case__public_id", "instrument_key", "submitted_at", "total", "band", "scorable", "prorated")
        .order_by("submitted_at", "id")
    )


def _series(client: Client, instrument: Instrument, rows: Sequence[Administration]) -> InstrumentSeries:
    rule = change_rule(instrument)
    labels = {band.key: band.label for band in instrument.bands.ranges} if instrument.bands else {}
    baseline: int | None = None
    points = []
    for row in rows:
        assert row.submitted_at is not None  # _completed asks for it
        change = None
        if row.total is not None:
            if baseline is None:
                baseline = row.total
            elif rule.applies:
                change = instrument_change(instrument, baseline, row.total)
        points.append(
            SeriesPoint(
                administration_id=str(row.public_id),
                case_id=str(row.case.public_id),
                when=row.submitted_at,
                total=row.total,
                band=row.band,
                band_label=labels.get(row.band, ""),
                scorable=bool(row.scorable),
                prorated=row.prorated,
                change=change,
            )
        )
    return InstrumentSeries(client=client, instrument=instrument, points=tuple(points), rule=rule)


def results_of(clients: Sequence[Client], *, case: Case | None = None) -> dict[int, list[InstrumentSeries]]:
    """Each client's series (by client pk), one per instrument they completed, in the order first answered.

    Unaudited and unscoped: the two selectors below are the way in. An instrument whose file is no
    longer installed is left out rather than guessed at.
    """
    by_client: dict[int, dict[str, list[Administration]]] = {client.pk: {} for client in clients}
    for row in _completed(clients, case):
        by_client[row.client_id].setdefault(row.instrument_key, []).append(row)
    results: dict[int, list[InstrumentSeries]] = {}
    for client in clients:
        results[client.pk] = []
        for key, rows in by_client[client.pk].items():
            try:
                instrument = instruments.load(key)
            except UnknownInstrument:
                continue
            results[client.pk].append(_series(client, instrument, rows))
    return results


def client_results_read(*, user: User, client: Client, request: HttpRequest | None = None) -> list[InstrumentSeries]:
    """The signed-in client's own results, every case of theirs included; audited as a read of their scores.

    Only the client themself: the other partner of a couple is refused, whatever they share
    (ARCHITECTURE.md, visibility rules: "a partner's check-in answers: own only").
    """
    if not (user.is_authenticated and user.role == Role.CLIENT and client.user_id == user.pk):
        raise PermissionDenied("These results belong to someone else.")
    results = results_of([client])[client.pk]
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="measures.results",
        object_id=client.public_id,
        practice_id=client.practice.public_id,
        client_id=client.public_id,
        request=request,
        detail={"fields": ["scores"]},
    )
    return results


def case_results_read(*, user: User, case: Case, request: HttpRequest | None = None) -> dict[int, list[InstrumentSeries]]:
    """Every client's results in ``case``, for the case's therapist only; audited once per client.

    The caller has fetched ``case`` through the case selector. The therapist of the case sees each
    partner of a couple: the visibility rules give them both partners' check-ins, and no consent
    item limits it (pausing check-ins stops new ones; it does not hide answers already given).
    """
    if not (user.is_authenticated and user.role == Role.THERAPIST and case.primary_therapist.user_id == user.pk):
        raise PermissionDenied("Only the case's therapist sees its check-in results.")
    clients = [member.client for member in case.members.select_related("client", "client__practice").order_by("position")]
    results = results_of(clients, case=case)
    case_audit(actor=user, action=Action.VIEW, case=case, request=request, fields=["scores"])
    return results
