"""Check-in results as pages show them: a chart, its numbers as a table, and words.

Takes the series that ``rapport.measures.series`` read (stored scores, never answers) and builds
what the portal and the workspace show. Two readers, two sets of words:

- **The client** (``client_result``): their own scores, with a sentence that says what changed in
  numbers and which way the questionnaire counts. No band names, no cut-off line, no "reliable
  improvement" marker: a client's page never labels them or their score (MEASURES.md §1.3: a band is
  never a diagnosis; docs/results.md, "Wording").
- **The therapist** (``therapist_result``): every client of the case on one chart (a couple side by
  side on the same axes), with the published bands, the caseness cut-off, reliable-change markers,
  and for each client the classification with its rule, threshold and citation.

Dates are the reader's: each check-in's time is converted to ``zone`` before it is drawn or written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from rapport.measures.change import RELIABLE_DETERIORATION, RELIABLE_IMPROVEMENT, Change
from rapport.measures.instruments import Instrument
from rapport.measures.series import InstrumentSeries, SeriesPoint

# The module, not its names: importing charts first imports matplotlib, whose first run logs while it
# builds its font cache; Rapport's log filter then loads the URLconf, whose views import this module
# while charts is still half-initialised. Names looked up at call time do not mind.
from rapport.reports import charts

CLASSIFICATION_WORDS = {
    RELIABLE_IMPROVEMENT: "reliable improvement",
    RELIABLE_DETERIORATION: "reliable deterioration",
    "no_reliable_change": "no reliable change",
}

# What the client is told each of our own check-ins is: they have no published name or scale.
OWN_CHECK_IN_TITLES = {
    "presession": "How has the week been? (your answers, 0 to 10)",
    "alliance": "Your ratings after each session, added together (0 to 30)",
}
OWN_CHECK_IN_EXPLANATIONS = {
    "presession": "Before sessions you answered “How has the week been?” from 0 (very hard) to 10 (very good).",
    "alliance": (
        "After sessions you rated three things from 0 to 10: whether the session was about what you want from "
        "therapy, whether the way the time was spent felt right, and how at ease you felt. Here the three are "
        "added together, from 0 to 30."
    ),
}
NOT_A_DIAGNOSIS = (
    "A score describes how you answered on that day. It is not a diagnosis, and you can talk about any of it with your therapist."
)


@dataclass(frozen=True)
class ChangeSummary:
    """One client's latest score against their first, as the therapist reads it."""

    label: str  # the client's name
    baseline: SeriesPoint | None
    latest: SeriesPoint | None
    change: Change | None
    classification: str  # in words; "" when no rule applies or there is nothing to compare yet
    threshold: float | None
    rule: str  # in words
    source: str
    why_not: str


@dataclass(frozen=True)
class ResultView:
    key: str  # the instrument key
    heading: str  # the instrument's name
    title: str  # the chart's title
    lead: str  # plain words above the chart
    chart_uri: str  # data: URI of the SVG, for <img src>
    description: str  # the chart in words: the image's alt text
    columns: tuple[str, ...]  # the table's value columns, one per series
    rows: tuple[charts.TableRow, ...]
    attribution: str | None  # the line the instrument's licence asks to show
    changes: tuple[ChangeSummary, ...] = ()


def _local(when: datetime, zone: ZoneInfo) -> datetime:
    return when.astimezone(zone)


def _points(series: InstrumentSeries, zone: ZoneInfo) -> list[charts.Point]:
    return [charts.Point(_local(p.when, zone), p.total, "prorated" if p.prorated else None) for p in series.points]


def _name(instrument: Instrument) -> str:
    return instrument.abbreviation or instrument.name


def _scale(instrument: Instrument) -> tuple[int, int]:
    return instrument.total_range


def _chart(
    *,
    title: str,
    lead: str,
    series: Sequence[charts.Series],
    instrument: Instrument,
    bands: Sequence[charts.Band] | None = None,
    markers: Sequence[charts.Marker] | None = None,
    cutoff: float | None = None,
    cutoff_label: str = "",
) -> tuple[str, str]:
    y_min, y_max = _scale(instrument)
    arguments = {
        "title": title,
        "description": lead,
        "series": series,
        "bands": bands,
        "reliable_change_markers": markers,
        "cutoff": cutoff,
        "cutoff_label": cutoff_label,
    }
    svg = charts.series_chart(**arguments, y_min=y_min, y_max=y_max, higher_is_better=instrument.higher_is_better)  # type: ignore[arg-type]
    return charts.svg_data_uri(svg), charts.series_description(**arguments)  # type: ignore[arg-type]


# --- The client's own results ------------------------------------------------------------------------


def _difference_words(first: SeriesPoint, latest: SeriesPoint, zone: ZoneInfo, *, out_of: str = "") -> str:
    assert first.total is not None
    assert latest.total is not None
    first_words = f"{charts.written_value(first.total)}{out_of} on {charts.written_date(_local(first.when, zone))}"
    latest_words = f"{charts.written_value(latest.total)}{out_of} on {charts.written_date(_local(latest.when, zone))}"
    moved = latest.total - first.total
    if moved == 0:
        how = "the same as your first"
    else:
        points = "point" if abs(moved) == 1 else "points"
        how = f"{charts.written_value(abs(moved))} {points} {'higher' if moved > 0 else 'lower'} than your first"
    return f"Your first was {first_words}. Your latest, {latest_words}, is {how}."


def client_sentence(series: InstrumentSeries, zone: ZoneInfo) -> str:
    """What changed, in plain words: numbers and direction, never a label or a verdict."""
    instrument = series.instrument
    own = instrument.authorship == "project"
    out_of = f" out of {_scale(instrument)[1]}" if own else ""
    sentences = []
    if own and instrument.key in OWN_CHECK_IN_EXPLANATIONS:
        sentences.append(OWN_CHECK_IN_EXPLANATIONS[instrument.key])
    scored = series.scored
    if len(scored) == 1:
        only = scored[0]
        assert only.total is not None
        sentences.append(
            f"You have one score so far: {charts.written_value(only.total)}{out_of} on {charts.written_date(_local(only.when, zone))}. "
            "Later check-ins will show how it moves over time."
        )
    elif scored:
        sentences.append(_difference_words(scored[0], scored[-1], zone, out_of=out_of))
    unscored = len(series.points) - len(scored)
    if unscored:
        sentences.append(
            f"{'One check-in' if unscored == 1 else f'{unscored} check-ins'} could not be given a score because "
            "some questions were left blank; the chart leaves a gap there."
        )
    if not own:
        if instrument.higher_is_better:
            sentences.append("On this questionnaire, a higher score means you reported feeling well more of the time.")
        else:
            sentences.append("On this questionnaire, a lower score means you reported being bothered less often by what it asks about.")
        if series.rule.applies and series.rule.threshold is not None:
            sentences.append(
                f"A change of less than {charts.written_value(series.rule.threshold)} points can come from the ordinary ups and "
                "downs between one time and the next."
            )
    sentences.append(NOT_A_DIAGNOSIS)
    return " ".join(sentences)


def client_result(series: InstrumentSeries, zone: ZoneInfo) -> ResultView:
    """The client's chart of one instrument: their own line, no bands, no markers, and their words."""
    instrument = series.instrument
    own = instrument.authorship == "project"
    title = OWN_CHECK_IN_TITLES.get(instrument.key, instrument.name) if own else f"Your {_name(instrument)} scores"
    lead = "Your answers over time" if own else "Your scores over time"
    line = charts.Series("You", _points(series, zone))
    uri, description = _chart(title=title, lead=lead, series=[line], instrument=instrument)
    return ResultView(
        key=instrument.key,
        heading=instrument.name,
        title=title,
        lead=client_sentence(series, zone),
        chart_uri=uri,
        description=description,
        columns=("Your score",),
        rows=tuple(charts.series_table([line])),
        attribution=instrument.licence.attribution,
    )


def client_results(results: Sequence[InstrumentSeries], zone: ZoneInfo) -> list[ResultView]:
    """One view per instrument that has at least one score: a series of blanks has nothing to draw in words."""
    return [client_result(series, zone) for series in results if series.scored]


# --- The therapist's view of a case ------------------------------------------------------------------


def _change_summary(series: InstrumentSeries, label: str) -> ChangeSummary:
    rule = series.rule
    change = series.latest_change
    if rule.rule == "fixed_threshold":
        rule_words = f"published fixed threshold: a change of {charts.written_value(rule.threshold or 0)} points or more"
    elif rule.rule:
        rule_words = "Jacobson & Truax reliable change index"
    else:
        rule_words = ""
    return ChangeSummary(
        label=label,
        baseline=series.baseline,
        latest=series.latest,
        change=change,
        classification=CLASSIFICATION_WORDS.get(change.classification, "") if change is not None else "",
        threshold=rule.threshold,
        rule=rule_words,
        source=rule.source,
        why_not=rule.why_not,
    )


def _markers(series: InstrumentSeries, label: str, zone: ZoneInfo) -> list[charts.Marker]:
    markers = []
    for point in series.changes_to_mark:
        assert point.change is not None
        kind = point.change.classification
        if kind in (RELIABLE_IMPROVEMENT, RELIABLE_DETERIORATION):
            markers.append(charts.Marker(_local(point.when, zone), kind, label))  # type: ignore[arg-type]
    return markers


def therapist_result(instrument: Instrument, per_client: Sequence[tuple[str, InstrumentSeries]], zone: ZoneInfo) -> ResultView:
    """One instrument for every client of the case who completed it, side by side on the same axes.

    ``per_client`` pairs each client's name with their series, in the case's order.
    """
    lines = [charts.Series(label, _points(series, zone)) for label, series in per_client]
    markers = [marker for label, series in per_client for marker in _markers(series, label, zone)]
    bands = [charts.Band(b.key, b.label, b.min, b.max) for b in instrument.bands.ranges] if instrument.bands else None
    cutoff = instrument.caseness_cutoff
    cutoff_value = None
    if cutoff is not None:
        cutoff_value = cutoff.at_least if cutoff.at_least is not None else cutoff.at_most
    title = f"{_name(instrument)} total"
    lead = "Scores over time" if instrument.validated else "Answers over time (Rapport's own check-in, not validated, no bands)"
    uri, description = _chart(
        title=title,
        lead=lead,
        series=lines,
        instrument=instrument,
        bands=bands,
        markers=markers,
        cutoff=cutoff_value,
        cutoff_label=cutoff.label if cutoff is not None else "",
    )
    return ResultView(
        key=instrument.key,
        heading=instrument.name,
        title=title,
        lead=lead,
        chart_uri=uri,
        description=description,
        columns=tuple(label for label, _ in per_client),
        rows=tuple(charts.series_table(lines)),
        attribution=instrument.licence.attribution,
        changes=tuple(_change_summary(series, label) for label, series in per_client),
    )


def case_results(results: Sequence[tuple[str, Sequence[InstrumentSeries]]], zone: ZoneInfo) -> list[ResultView]:
    """The case's page: one view per instrument any client completed, each client's line on it.

    ``results`` pairs each client's name with their series, in the case's order. An instrument is
    shown even when no check-in of it could be scored, so the therapist sees that it was answered.
    """
    order: list[str] = []
    by_key: dict[str, list[tuple[str, InstrumentSeries]]] = {}
    instruments_by_key: dict[str, Instrument] = {}
    for label, series_list in results:
        for series in series_list:
            key = series.instrument.key
            if key not in by_key:
                order.append(key)
                by_key[key] = []
                instruments_by_key[key] = series.instrument
            by_key[key].append((label, series))
    return [therapist_result(instruments_by_key[key], by_key[key], zone) for key in order]
