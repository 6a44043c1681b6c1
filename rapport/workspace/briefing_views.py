"""The pre-session briefing: one page the therapist reads before one session of a case.

Who gets in: the appointment's own therapist, when the appointment belongs to a case they treat.
The page names the case's clients, so the case goes through ``named_case_get`` after the appointment
selector: another therapist, another practice or a missing appointment is 404; the practice admin
and the supervisor are turned away (403) before any lookup, as on every appointment page; clients
never reach the workspace. A consultation without a case has nothing to brief: 404, and the
appointment page offers no link to it.

The data comes from ``insights.briefing.briefing_read``, which also records the read. This module
only turns it into charts and words. Charts take a good part of a second each to draw, and the same
history gives the same chart, so each is kept in a small in-process cache keyed by its exact input
(docs/briefing.md).
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role
from rapport.insights.briefing import ClientAlliance, briefing_read
from rapport.insights.services import MAX_NOTE
from rapport.reports import charts
from rapport.reports.results import ResultView, case_results
from rapport.scheduling.calendar import appointment_get_for_user
from rapport.workspace.named_cases import named_case_get
from rapport.workspace.signal_views import signal_card

T = TypeVar("T")

# Enough for a day's sessions of a few therapists per worker; each entry is a few tens of kB.
CHART_CACHE_SIZE = 128
_cache: OrderedDict[str, object] = OrderedDict()
_cache_lock = threading.Lock()

ALLIANCE_WORDS = {
    "goals": "Goals (the session was about what they want)",
    "tasks": "Tasks (the way the time was spent)",
    "bond": "Bond (at ease with you)",
}


def _memo(key: str, build: Callable[[], T]) -> T:
    """``build()`` once per distinct input per process: the key is a digest of everything the result depends on."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    with _cache_lock:
        if digest in _cache:
            _cache.move_to_end(digest)
            return _cache[digest]  # type: ignore[return-value]
    value = build()
    with _cache_lock:
        _cache[digest] = value
        while len(_cache) > CHART_CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def chart_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


@dataclass(frozen=True)
class AllianceRow:
    written_date: str
    goals: str
    tasks: str
    bond: str
    total: str


@dataclass(frozen=True)
class AllianceView:
    label: str
    chart_uri: str  # "" when the client has sent no after-session check-in
    description: str
    rows: tuple[AllianceRow, ...]
    latest: str  # the latest total in words, for the summary line


def _alliance_view(one: ClientAlliance, zone: ZoneInfo) -> AllianceView:
    if not one.points:
        return AllianceView(label=one.label, chart_uri="", description="", rows=(), latest="")
    lines = [
        charts.Series(ALLIANCE_WORDS[item].split(" (")[0], [charts.Point(p.when.astimezone(zone), getattr(p, item)) for p in one.points])
        for item in ALLIANCE_WORDS
    ]
    title = f"{one.label}: after-session ratings"
    lead = "Goals, tasks and bond, each 0 to 10 (Rapport's own check-in, not validated)"

    def draw() -> tuple[str, str]:
        arguments = {"title": title, "description": lead, "series": lines}
        svg = charts.series_chart(**arguments, y_min=0, y_max=10, higher_is_better=True)  # type: ignore[arg-type]
        return charts.svg_data_uri(svg), charts.series_description(**arguments)  # type: ignore[arg-type]

    uri, description = _memo(repr(("alliance", title, lead, [(s.label, s.points) for s in lines])), draw)
    rows = tuple(
        AllianceRow(
            written_date=charts.written_date(p.when.astimezone(zone)),
            goals=charts.written_value(p.goals),
            tasks=charts.written_value(p.tasks),
            bond=charts.written_value(p.bond),
            total=charts.written_value(p.total),
        )
        for p in one.points
    )
    last = one.points[-1]
    latest = (
        f"{charts.written_value(last.total)} of 30 on {charts.written_date(last.when.astimezone(zone))}" if last.total is not None else ""
    )
    return AllianceView(label=one.label, chart_uri=uri, description=description, rows=rows, latest=latest)


def _outcome_views(outcomes: Sequence[tuple[str, Sequence[object]]], zone: ZoneInfo) -> list[ResultView]:
    # The results page's own charts (bands, cut-off, reliable-change markers), cached by their input.
    key = repr(("outcomes", str(zone), [(label, [(s.instrument.key, s.points) for s in series]) for label, series in outcomes]))  # type: ignore[attr-defined]
    return _memo(key, lambda: case_results(outcomes, zone))  # type: ignore[arg-type]


@require_safe
@role_required([Role.THERAPIST])
def appointment_briefing(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    appointment = appointment_get_for_user(user, appointment_id)
    if appointment.case is None:
        raise Http404("A consultation without a case has no briefing.")
    # The read is recorded by briefing_read, once for the whole page.
    case = named_case_get(user, appointment.case.public_id)
    briefing = briefing_read(user=user, appointment=appointment, case=case, request=request)
    # The appointment came with its therapist and practice: reuse them (here and in the base
    # template) rather than asking again, which keeps the page's query count down.
    user.practice = appointment.practice
    zone = ZoneInfo(appointment.therapist.time_zone or appointment.practice.time_zone)
    context = {
        "briefing": briefing,
        "appointment": appointment,
        "case": case,
        "people": " & ".join(label for _, label in briefing.labels),
        "couple": len(briefing.labels) > 1,
        "zone": str(zone),
        "alliance": [_alliance_view(one, zone) for one in briefing.alliance],
        "outcomes": _outcome_views(briefing.outcomes, zone),
        "cards": [signal_card(signal) for signal in briefing.signals],
        "treating": True,
        "max_note": MAX_NOTE,
        # The cards' buttons post to the signals page, which sends the therapist back here.
        "return_to": request.path,
    }
    return render(request, "workspace/briefing.html", context)
