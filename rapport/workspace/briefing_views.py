"""The pre-session briefing: one page the therapist reads before one session of a case.

Who gets in: the appointment's own therapist, when the appointment belongs to a case they treat.
The page names the case's clients, so the case goes through ``named_case_get`` after the appointment
selector: another therapist, another practice or a missing appointment is 404; the practice admin
and the supervisor are turned away (403) before any lookup, as on every appointment page; clients
never reach the workspace. A consultation without a case has nothing to brief: 404, and the
appointment page offers no link to it.

The data comes from ``insights.briefing``; this module turns it into charts and words. Gathering
and writing out a couple's history costs several times what sending the page costs, and the page
is opened again and again for the same history (before the session, after acknowledging a signal,
after a note), so the written-out page body is kept in a small in-process cache keyed by the
reader (who, in which role and practice) and ``briefing_version``, a digest of every row the page
and the checks above read: any change to what it shows, or to who may see it, changes the key. A
page is kept only after the checks let its reader in, and served again only to that reader while
none of those rows has changed. Each opening is recorded as a read (``briefing_record``), cached
or not. Charts, which take a good part of a second each to draw, are cached by their exact input
too (docs/briefing.md).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role
from rapport.audit.services import Entry
from rapport.insights.briefing import Briefing, ClientAlliance, briefing_check, briefing_gather, briefing_record, briefing_version
from rapport.insights.services import MAX_NOTE
from rapport.reports import charts
from rapport.reports.results import ResultView, case_results
from rapport.scheduling.calendar import appointment_get_for_user
from rapport.workspace.named_cases import named_case_of
from rapport.workspace.signal_views import signal_card

T = TypeVar("T")


class Memo:
    """``build()`` once per distinct key per process, the newest ``size`` kept.

    The key is a digest of everything the value depends on. What is kept stays in this process's
    memory only, never on disk or in a shared cache: some of it is clinical.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], T]) -> T:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        with self._lock:
            if digest in self._values:
                self._values.move_to_end(digest)
                return self._values[digest]  # type: ignore[return-value]
        value = build()
        with self._lock:
            self._values[digest] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


# Enough for a day's sessions of a few therapists per worker; a chart is a few tens of kB, a page
# body (with its charts) about a hundred.
charts_memo = Memo(128)
pages_memo = Memo(64)
# Stands in for the CSRF token in a cached body; each response gets the requester's own token.
_CSRF_PLACEHOLDER = f"csrf-{secrets.token_hex(16)}"


def briefing_cache_clear() -> None:
    charts_memo.clear()
    pages_memo.clear()


ALLIANCE_WORDS = {
    "goals": "Goals (the session was about what they want)",
    "tasks": "Tasks (the way the time was spent)",
    "bond": "Bond (at ease with you)",
}


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

    uri, description = charts_memo.get(repr(("alliance", title, lead, [(s.label, s.points) for s in lines])), draw)
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
    return charts_memo.get(key, lambda: case_results(outcomes, zone))  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Page:
    """What is kept of a briefing: text, and what opening it records. Nothing that holds model
    instances, so a full cache adds little for the garbage collector to walk on every request."""

    body: str  # the page's main content, with _CSRF_PLACEHOLDER for each form's token
    reads: tuple[Entry, ...]
    practice_name: str  # for the page's header


def _body(briefing: Briefing, zone: ZoneInfo, return_to: str) -> str:
    context = {
        "briefing": briefing,
        "appointment": briefing.appointment,
        "case": briefing.case,
        "people": " & ".join(label for _, label in briefing.labels),
        "couple": len(briefing.labels) > 1,
        "zone": str(zone),
        "alliance": [_alliance_view(one, zone) for one in briefing.alliance],
        "outcomes": _outcome_views(briefing.outcomes, zone),
        "cards": [signal_card(signal) for signal in briefing.signals],
        "treating": True,
        "max_note": MAX_NOTE,
        # The cards' buttons post to the signals page, which sends the therapist back here.
        "return_to": return_to,
        "csrf_token": _CSRF_PLACEHOLDER,
    }
    return render_to_string("workspace/_briefing_body.html", context)


@require_safe
@role_required([Role.THERAPIST])
def appointment_briefing(request: HttpRequest, appointment_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    # Taken before anything else is read: a change made while the page is built only costs a rebuild later.
    version = briefing_version(appointment_id)
    # The version covers every row the checks below read; the user's own part of them (who, which
    # role, which practice) is in the key. A page is kept only once the checks let this user in.
    key = repr((appointment_id, user.pk, user.role, user.practice_id, version, request.path))

    def build() -> _Page:
        # The clients come with the briefing, when it is gathered: not needed to check or to recognise it.
        appointment = appointment_get_for_user(user, appointment_id, with_people=False)
        if appointment.case is None:
            raise Http404("A consultation without a case has no briefing.")
        case = named_case_of(user, appointment.case)
        # The appointment came with its practice, the case's own: the audit events name it.
        if case.practice_id == appointment.practice_id:
            case.practice = appointment.practice
        briefing_check(user, appointment, case)
        zone = ZoneInfo(appointment.therapist.time_zone or appointment.practice.time_zone)
        briefing = briefing_gather(user=user, appointment=appointment, case=case)
        return _Page(
            body=_body(briefing, zone, request.path),
            reads=briefing.reads,
            practice_name=appointment.practice.name,
        )

    page = pages_memo.get(key, build)
    briefing_record(user=user, reads=page.reads, request=request)
    body = page.body.replace(_CSRF_PLACEHOLDER, get_token(request))
    context = {"body": mark_safe(body), "practice_name": page.practice_name}  # noqa: S308 - our own template's output
    return render(request, "workspace/briefing.html", context)
