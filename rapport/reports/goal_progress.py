"""Goal progress as pages show it: per goal, a chart of its ratings, the same in words and as a table.

Takes what ``rapport.plans.progress.goal_progress_for_viewer`` read and builds the portal's and
the workspace's progress pages (docs/gas.md, "Progress pages"):

- **Per goal**, every rating the reader may see on the -2..+2 scale, one line per rater (the
  therapist, and each client who rated), told apart by marker and line style and named in a text
  legend; the y axis carries the goal's own level descriptions where there are some. Beside it,
  what moved in plain words ("rated -1 on 3 March 2026, then +1 on 14 April 2026") and a table
  of every rating: date, who, level, and the session it was linked to.
- **The goal attainment T-score over time** (Kiresuk & Sherman 1968; ``rapport.plans.gas``), for
  the therapist only: one series per rater, one point per day on which that rater rated goals,
  covering exactly the goals rated that day. A client sees their goals in their own words instead
  of a single standardised number (docs/gas.md explains the choice).

Words never judge: a level is "rated", a line "moved from ... to ..."; nothing is called better,
worse, success or failure. Dates are the reader's: every time is converted to ``zone`` first.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from rapport.clients.models import Client
from rapport.plans import gas
from rapport.plans.models import GAS_LEVELS, GoalRating
from rapport.plans.progress import CaseProgress, GoalProgress

# The module, not its names (see rapport.reports.results for why).
from rapport.reports import charts

# Room above +2 and below -2 so the markers on the extreme levels are drawn whole.
_LEVEL_MARGIN = 0.4
_TICK_WORDS = 26
_TITLE_WORDS = 70


@dataclass(frozen=True)
class RatingRow:
    written_date: str
    who: str
    level: str  # "+1"
    level_words: str  # the goal's own description of that level, else the scale's meaning
    session: str  # the session's date in words; "" when the rating is not linked to one


@dataclass(frozen=True)
class LevelLine:
    level: str  # "+1"
    meaning: str  # the scale's words ("somewhat more than expected")
    description: str  # the goal's own words for it, "" when not described


@dataclass(frozen=True)
class GoalChart:
    anchor: str  # the goal's public id, for in-page links
    words: str  # the goal in the words agreed
    scope: str  # "Joint", "Pat Partner's own", "Your own", or ""
    levels: tuple[LevelLine, ...]
    described: bool  # whether the goal has level descriptions of its own
    chart_uri: str  # "" when nobody has rated the goal yet
    description: str  # the chart in words: the image's alt text
    legend: tuple[str, ...]  # "Therapist: filled circles joined by a solid line"
    movement: tuple[str, ...]  # one sentence per rater
    rows: tuple[RatingRow, ...]


@dataclass(frozen=True)
class TScoreChart:
    chart_uri: str
    description: str
    legend: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[charts.TableRow, ...]
    movement: tuple[str, ...]
    citation: str


@dataclass(frozen=True)
class ProgressPage:
    goals: tuple[GoalChart, ...]
    t_score: TScoreChart | None  # None for a client, or while nothing is rated


def signed(level: int) -> str:
    return f"{level:+d}" if level else "0"


def _local(when: datetime, zone: ZoneInfo) -> datetime:
    return when.astimezone(zone)


@dataclass(frozen=True)
class _Rater:
    key: int | None  # the rating client's key; None for the therapist
    label: str  # on the chart and in the table
    possessive: str  # "Your", "The therapist's", "Pat Partner's"


def _raters(progress: CaseProgress) -> list[_Rater]:
    """Who may appear, in a fixed order: the reader first when they are a client, then the therapist."""
    me = progress.viewer_client
    if me is not None:
        return [_Rater(me.pk, "You", "Your"), _Rater(None, "Your therapist", "Your therapist's")]
    labels = _labels(progress.members)
    return [_Rater(None, "Therapist", "The therapist's")] + [
        _Rater(client.pk, label, f"{label}'s") for client, label in zip(progress.members, labels, strict=True)
    ]


def _labels(members: Sequence[Client]) -> list[str]:
    # A chart needs one label per line; two clients with one name are told apart by their order.
    names = [c.full_name for c in members]
    return [f"{name} ({index})" if names.count(name) > 1 else name for index, name in enumerate(names, start=1)]


def _scope(goal: GoalProgress, progress: CaseProgress) -> str:
    couple = len(progress.members) > 1
    owner = goal.item.owner
    if owner is None:
        return "Joint" if couple else ""
    if progress.viewer_client is not None:
        return "Your own"
    return f"{owner.full_name}'s own"


def _level_words(goal: GoalProgress, level: int) -> str:
    described = (goal.revision.gas_levels or {}).get(str(level), "").strip()
    return described or gas.LEVEL_MEANINGS[level]


def _by_rater(ratings: Sequence[GoalRating], raters: Sequence[_Rater]) -> list[tuple[_Rater, list[GoalRating]]]:
    found = []
    for rater in raters:
        own = [r for r in ratings if r.client_id == rater.key]
        if own:
            found.append((rater, own))
    return found


def _movement(rater: _Rater, ratings: Sequence[tuple[date | datetime, int]]) -> str:
    """One plain sentence per rater: where their ratings started and where they are now."""
    first_when, first = ratings[0]
    last_when, last = ratings[-1]
    first_words = f"{signed(first)} on {charts.written_date(first_when)}"
    if len(ratings) == 1:
        return f"{rater.possessive} rating: {first_words}."
    last_words = f"{signed(last)} on {charts.written_date(last_when)}"
    count = f"{len(ratings)} ratings"
    if first == last:
        return f"{rater.possessive} ratings: {first_words}, and {last_words} ({count})."
    steps = gas.goal_change(first, last)
    plural = "level" if abs(steps) == 1 else "levels"
    return f"{rater.possessive} ratings moved from {first_words} to {last_words}, {abs(steps)} {plural} {'up' if steps > 0 else 'down'} ({count})."


def _legend(series: Sequence[charts.Series]) -> tuple[str, ...]:
    return tuple(f"{one.label}: {look}" for one, look in zip(series, charts.SERIES_LOOKS, strict=False))


def goal_chart(goal: GoalProgress, progress: CaseProgress, zone: ZoneInfo) -> GoalChart:
    """One goal's ratings as a chart, a text legend, sentences and a table, for this reader."""
    raters = _raters(progress)
    allowed = {rater.key for rater in raters}
    # Defence in depth: the selector already leaves out the other partner's ratings for a client.
    ratings = [r for r in goal.ratings if r.client_id in allowed]
    grouped = _by_rater(ratings, raters)
    levels = tuple(
        LevelLine(
            level=signed(level), meaning=gas.LEVEL_MEANINGS[level], description=(goal.revision.gas_levels or {}).get(str(level), "").strip()
        )
        for level in reversed(GAS_LEVELS)
    )
    words = goal.revision.client_words
    who = {rater.key: rater.label for rater in raters}
    rows = tuple(
        RatingRow(
            written_date=charts.written_date(_local(r.rated_at, zone)),
            who=who[r.client_id],
            level=signed(r.level),
            level_words=_level_words(goal, r.level),
            session="" if r.appointment is None else charts.written_date(_local(r.appointment.start, zone)),
        )
        for r in ratings
    )
    chart = GoalChart(
        anchor=str(goal.item.public_id),
        words=words,
        scope=_scope(goal, progress),
        levels=levels,
        described=any(line.description for line in levels),
        chart_uri="",
        description="",
        legend=(),
        movement=(),
        rows=rows,
    )
    if not grouped:
        return chart
    series = [charts.Series(rater.label, [charts.Point(_local(r.rated_at, zone), r.level) for r in own]) for rater, own in grouped]
    movement = tuple(_movement(rater, [(_local(r.rated_at, zone), r.level) for r in own]) for rater, own in grouped)
    title = textwrap.shorten(words, _TITLE_WORDS, placeholder="…")
    lead = (
        "Where the goal was rated over time, from -2 (much less than expected) to +2 (much more than expected); 0 is the expected outcome"
    )
    ticks = [
        (float(level), f"{signed(level)} {textwrap.shorten(_level_words(goal, level), _TICK_WORDS, placeholder='…')}")
        for level in GAS_LEVELS
    ]
    svg = charts.series_chart(
        title=title,
        description=lead,
        series=series,
        y_min=gas.LOWEST_LEVEL - _LEVEL_MARGIN,
        y_max=gas.HIGHEST_LEVEL + _LEVEL_MARGIN,
        higher_is_better=True,
        y_ticks=ticks,
        y_label="level rated",
    )
    description = charts.series_description(title=title, description=lead, series=series)
    return replace(chart, chart_uri=charts.svg_data_uri(svg), description=description, legend=_legend(series), movement=movement)


def _day_ratings(goals: Sequence[GoalProgress], rater: _Rater, zone: ZoneInfo) -> list[gas.Rating]:
    """The rater's ratings grouped by day: per day, each goal's last rating that day."""
    days: dict[date, dict[Hashable, int]] = {}
    for goal in goals:
        for rating in goal.ratings:
            if rating.client_id != rater.key:
                continue
            # Ratings come oldest first, so a later rating of the same goal that day replaces an earlier one.
            days.setdefault(_local(rating.rated_at, zone).date(), {})[goal.item.pk] = rating.level
    return [gas.Rating(when=day, levels=levels) for day, levels in sorted(days.items())]


def _goals_note(count: int, total: int) -> str:
    return f"{count} of {total} goals" if count != total else ("the one goal" if total == 1 else f"all {total} goals")


def t_score_chart(progress: CaseProgress, zone: ZoneInfo) -> TScoreChart | None:
    """The case's T-score over time, one series per rater; None while nobody has rated a goal."""
    goals = progress.goals
    weights: dict[Hashable, int] = {goal.item.pk: goal.revision.weight or 1 for goal in goals}
    series: list[charts.Series] = []
    movement: list[str] = []
    for rater in _raters(progress):
        points = gas.t_score_series(_day_ratings(goals, rater, zone), weights)
        if not points:
            continue
        series.append(
            charts.Series(
                rater.label,
                [charts.Point(p.when, round(p.t_score, 1), _goals_note(len(p.goals), len(goals))) for p in points],
            )
        )
        first, last = points[0], points[-1]
        first_words = f"{charts.written_value(round(first.t_score, 1))} on {charts.written_date(first.when)}"
        if len(points) == 1:
            movement.append(f"{rater.possessive} ratings: {first_words}.")
        else:
            last_words = f"{charts.written_value(round(last.t_score, 1))} on {charts.written_date(last.when)}"
            movement.append(f"{rater.possessive} ratings: moved from {first_words} to {last_words}.")
    if not series:
        return None
    values = [p.value for one in series for p in one.points if p.value is not None]
    # At least the range of one goal (30 to 70), wider when many goals push the score further out.
    y_min = min(30.0, math.floor((min(values) - 5) / 10) * 10)
    y_max = max(70.0, math.ceil((max(values) + 5) / 10) * 10)
    title = "Goal attainment T-score"
    lead = (
        "The Kiresuk and Sherman goal attainment T-score of each day's ratings, over the goals rated that day; "
        "50 means every goal rated stood where it was expected to"
    )
    arguments = {"title": title, "description": lead, "series": series, "cutoff": 50.0, "cutoff_label": "every goal as expected"}
    svg = charts.series_chart(**arguments, y_min=y_min, y_max=y_max, higher_is_better=True, y_label="T-score")  # type: ignore[arg-type]
    return TScoreChart(
        chart_uri=charts.svg_data_uri(svg),
        description=charts.series_description(**arguments),  # type: ignore[arg-type]
        legend=_legend(series),
        columns=tuple(one.label for one in series),
        rows=tuple(charts.series_table(series)),
        movement=tuple(movement),
        citation=gas.KIRESUK_SHERMAN,
    )


def progress_page(progress: CaseProgress, zone: ZoneInfo) -> ProgressPage:
    """Everything a progress page shows; the T-score only for staff readers (see the module's docstring)."""
    goals = tuple(goal_chart(goal, progress, zone) for goal in progress.goals)
    return ProgressPage(goals=goals, t_score=None if progress.viewer_client is not None else t_score_chart(progress, zone))
