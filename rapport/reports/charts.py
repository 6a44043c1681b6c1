"""Measure charts as SVG text, drawn on the server with matplotlib. Pure: no Django, no database.

Plain dataclasses in, a string out:

- ``series_chart(*, title, description, series, bands=None, y_min, y_max, higher_is_better,
  reliable_change_markers=None, cutoff=None, cutoff_label="") -> str`` draws one instrument's
  scores over time: one ``Series`` per person (one for an individual case, one per partner for a
  couple, on the same axes), the instrument's severity ``Band``\\s as light shaded regions named in
  words at the side, an optional cut-off line, and ``Marker``\\s where a change was reliable.
- ``series_description(...)`` (same arguments minus the axis ones) is the chart's content in words,
  numbers included. The SVG carries it as its ``<desc>``; a page uses it as the image's alt text.
- ``series_table(series) -> list[TableRow]`` is the same numbers as rows for the table that every
  page must show next to a chart (a chart alone is not enough for many readers).
- ``svg_data_uri(svg) -> str`` turns the SVG into a ``data:`` URI for ``<img src=...>``.

Nothing relies on colour alone: each series has its own marker shape, fill and line style, is
named at the end of its line and in the legend; bands are named in text; reliable-change markers
have their own shapes and a written annotation. A missing score (``value=None``: not answered or
not scorable) breaks the line instead of being drawn as zero.

The output is deterministic (same input, same bytes): a fixed ``svg.hashsalt`` for the ids
matplotlib generates, no creation date or creator in the metadata, text kept as ``<text>``
(``svg.fonttype: none``) rather than glyph outlines. The output contains no ``style`` attribute
and no ``<style>`` element (they are rewritten into SVG presentation attributes), because the
site's Content-Security-Policy (``style-src 'self'``) would block both in an inlined SVG.

Words are plain and never a diagnosis: the labels are the caller's (the instrument's published
band words, the people's names), the chart adds only "reliable improvement", "reliable
deterioration", "no score" and the direction of the scale. Dates are written in English
("3 March 2026"); a ``datetime`` is shown by its date, so callers pass datetimes already in the
reader's zone (or plain dates).

matplotlib keeps a font cache in ``MPLCONFIGDIR``; ``config/settings.py`` points it at
``$RAPPORT_VAR_DIR/matplotlib`` so the first render works when ``HOME`` is read-only or unset.
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from xml.sax.saxutils import escape

import matplotlib
import matplotlib.dates as mdates
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import blended_transform_factory
from matplotlib.typing import MarkerType, RcKeyType

from rapport.measures.change import RELIABLE_DETERIORATION, RELIABLE_IMPROVEMENT

MarkerKind = Literal["reliable_improvement", "reliable_deterioration"]


@dataclass(frozen=True)
class MarkerLook:
    marker: MarkerType
    size: float
    label: str


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# Okabe & Ito's colour-blind-safe palette; colour is only the third cue after shape and dash.
SERIES_STYLES = (
    {"color": "#0072B2", "marker": "o", "linestyle": "-", "markerfacecolor": "#0072B2"},
    {"color": "#D55E00", "marker": "s", "linestyle": (0, (6, 3)), "markerfacecolor": "white"},
    {"color": "#009E73", "marker": "^", "linestyle": (0, (1.5, 2)), "markerfacecolor": "#009E73"},
    {"color": "#CC79A7", "marker": "D", "linestyle": (0, (6, 2, 1.5, 2)), "markerfacecolor": "white"},
)
# The same looks in words, for a text legend beside the image (the order of SERIES_STYLES).
SERIES_LOOKS = (
    "filled circles joined by a solid line",
    "open squares joined by a dashed line",
    "filled triangles joined by a dotted line",
    "open diamonds joined by a dash-dot line",
)
MARKER_STYLES: dict[str, MarkerLook] = {
    RELIABLE_IMPROVEMENT: MarkerLook(marker="*", size=16, label="reliable improvement"),
    RELIABLE_DETERIORATION: MarkerLook(marker="X", size=12, label="reliable deterioration"),
}
BAND_SHADES = ("#f3f3f3", "#e4e4e4")

# Figure-wide settings, applied per render inside rc_context (see _RENDER_LOCK).
_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "rapport-charts",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# rc_context changes matplotlib's process-wide rcParams; the lock keeps two threads of one worker
# from rendering with each other's settings half-applied.
_RENDER_LOCK = threading.Lock()


@dataclass(frozen=True)
class Point:
    """One score at one time. ``value=None`` means no score (not answered or not scorable).

    ``note`` is an optional short plain word for this point ("prorated"), written in the
    description and the table, not on the chart.
    """

    when: date | datetime
    value: float | None
    note: str | None = None


@dataclass(frozen=True)
class Series:
    """One person's scores on one instrument, in any order (they are sorted by time)."""

    label: str
    points: Sequence[Point]


@dataclass(frozen=True)
class Band:
    """A published score range (inclusive) with its published words, e.g. ``Band("mild", "mild", 5, 9)``."""

    key: str
    label: str
    low: float
    high: float


@dataclass(frozen=True)
class Marker:
    """A reliable change for ``series_label`` at the point dated ``when`` (which must have a score)."""

    when: date | datetime
    kind: MarkerKind
    series_label: str


@dataclass(frozen=True)
class TableRow:
    """One date of ``series_table``: the written date and, per series in order, the value in words."""

    when: date
    written_date: str
    values: tuple[str, ...]


def written_date(when: date | datetime) -> str:
    """``3 March 2026``: English month names, independent of the process locale."""
    day = when.date() if isinstance(when, datetime) else when
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def written_value(value: float | None) -> str:
    """A score in words: whole numbers without a decimal point, others to one decimal; None is "no score"."""
    if value is None:
        return "no score"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def series_chart(
    *,
    title: str,
    description: str,
    series: Sequence[Series],
    bands: Sequence[Band] | None = None,
    y_min: float,
    y_max: float,
    higher_is_better: bool,
    reliable_change_markers: Sequence[Marker] | None = None,
    cutoff: float | None = None,
    cutoff_label: str = "",
    y_ticks: Sequence[tuple[float, str]] | None = None,
    y_label: str | None = None,
) -> str:
    """One instrument's scores over time as an SVG document (a string, without an XML prolog).

    ``title`` names the chart ("PHQ-9 total"); ``description`` is a lead sentence in plain words
    that the generated account of the data follows (see ``series_description``). ``series``: one to
    four ``Series`` with distinct labels; for a couple, one per partner, drawn on the same axes.
    ``bands``: the instrument's published ranges, inside ``[y_min, y_max]`` and not overlapping.
    ``higher_is_better`` only writes the direction of the scale on the y axis.
    ``reliable_change_markers`` must each name a series and a dated point of it that has a score.
    ``cutoff`` draws a dotted line named ``cutoff_label``.
    ``y_ticks``, when given, are the only ticks of the y axis, each a value and the words written
    beside it (a scale whose steps have meanings, like goal attainment levels); ``y_label`` replaces
    the axis title that ``higher_is_better`` writes.

    Raises ``ValueError`` with a plain message on input that cannot be drawn honestly: no series,
    a series without points, two series with one label, a score outside ``[y_min, y_max]`` or not a
    finite number, overlapping bands, a marker that matches no scored point.
    """
    _check(series=series, bands=bands or (), y_min=y_min, y_max=y_max, markers=reliable_change_markers or (), cutoff=cutoff)
    for value, _ in y_ticks or ():
        if not (math.isfinite(value) and y_min <= value <= y_max):
            raise ValueError(f"The tick at {value} is outside the scale.")
    words = series_description(
        title=title,
        description=description,
        series=series,
        bands=bands,
        reliable_change_markers=reliable_change_markers,
        cutoff=cutoff,
        cutoff_label=cutoff_label,
    )
    with _RENDER_LOCK, matplotlib.rc_context(_RC):
        figure = _figure(
            title=title,
            series=series,
            bands=bands or (),
            y_min=y_min,
            y_max=y_max,
            higher_is_better=higher_is_better,
            markers=reliable_change_markers or (),
            cutoff=cutoff,
            cutoff_label=cutoff_label,
            y_ticks=y_ticks,
            y_label=y_label,
        )
        buffer = io.StringIO()
        FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None, "Creator": None})
    return _accessible(buffer.getvalue(), title=title, description=words)


def series_description(
    *,
    title: str,
    description: str,
    series: Sequence[Series],
    bands: Sequence[Band] | None = None,
    reliable_change_markers: Sequence[Marker] | None = None,
    cutoff: float | None = None,
    cutoff_label: str = "",
) -> str:
    """The chart in words, every number included, for a screen reader, alt text or a caption.

    For example: ``PHQ-9 total. Scores over time. Alex, from 3 March 2026 to 28 April 2026: 18 on
    3 March 2026, 15 on 17 March 2026, no score on 31 March 2026, 9 on 28 April 2026. A reliable
    improvement for Alex on 28 April 2026. Shaded ranges: mild 5 to 9, ...``
    """
    sentences = [_sentence(title), _sentence(description)]
    for one in series:
        points = _sorted(one.points)
        if not points:
            continue
        first, last = written_date(points[0].when), written_date(points[-1].when)
        span = f"on {first}" if first == last else f"from {first} to {last}"
        values = ", ".join(f"{written_value(p.value)} on {written_date(p.when)}" + (f" ({p.note})" if p.note else "") for p in points)
        sentences.append(f"{one.label}, {span}: {values}.")
    for marker in sorted(reliable_change_markers or (), key=lambda m: (_as_datetime(m.when), m.series_label)):
        words = MARKER_STYLES[marker.kind].label
        sentences.append(f"A {words} for {marker.series_label} on {written_date(marker.when)}.")
    if cutoff is not None:
        sentences.append(f"Dotted line at {written_value(cutoff)}" + (f": {cutoff_label}." if cutoff_label else "."))
    if bands:
        ranges = ", ".join(f"{b.label} {written_value(b.low)} to {written_value(b.high)}" for b in sorted(bands, key=lambda b: b.low))
        sentences.append(f"Shaded ranges: {ranges}.")
    return " ".join(s for s in sentences if s)


def series_table(series: Sequence[Series]) -> list[TableRow]:
    """The numbers of a chart as rows, one per date that any series has, oldest first.

    Each row holds, per series in the given order, the value in words ("no score" when that
    series has a point without a score, an empty string when it has no point that day).
    Pages show this table next to every chart.
    """
    by_day: dict[date, list[str]] = {}
    for index, one in enumerate(series):
        for point in _sorted(one.points):
            day = point.when.date() if isinstance(point.when, datetime) else point.when
            row = by_day.setdefault(day, [""] * len(series))
            text = written_value(point.value) + (f" ({point.note})" if point.note else "")
            row[index] = f"{row[index]}; {text}" if row[index] else text
    return [TableRow(when=day, written_date=written_date(day), values=tuple(by_day[day])) for day in sorted(by_day)]


def svg_data_uri(svg: str) -> str:
    """``data:image/svg+xml;base64,...`` for ``<img src>``; the site's CSP allows ``img-src data:``."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# --- checking -------------------------------------------------------------------------------------------


def _check(
    *,
    series: Sequence[Series],
    bands: Sequence[Band],
    y_min: float,
    y_max: float,
    markers: Sequence[Marker],
    cutoff: float | None,
) -> None:
    if not (math.isfinite(y_min) and math.isfinite(y_max) and y_min < y_max):
        raise ValueError(f"The scale must run from a lower to a higher number, got {y_min} to {y_max}.")
    if not series:
        raise ValueError("A chart needs at least one series.")
    if len(series) > len(SERIES_STYLES):
        raise ValueError(f"A chart shows at most {len(SERIES_STYLES)} series, got {len(series)}.")
    labels = [one.label for one in series]
    if len(set(labels)) != len(labels) or not all(label.strip() for label in labels):
        raise ValueError("Each series needs its own non-empty label.")
    for one in series:
        if not one.points:
            raise ValueError(f"The series {one.label!r} has no points.")
        for point in one.points:
            if point.value is None:
                continue
            if not math.isfinite(point.value) or not y_min <= point.value <= y_max:
                raise ValueError(
                    f"The series {one.label!r} has the score {point.value} on {written_date(point.when)}, "
                    f"outside the scale {written_value(y_min)} to {written_value(y_max)}."
                )
    ordered = sorted(bands, key=lambda b: b.low)
    for band in ordered:
        if not y_min <= band.low <= band.high <= y_max:
            raise ValueError(f"The band {band.label!r} ({band.low} to {band.high}) is not inside the scale.")
    for lower, upper in itertools.pairwise(ordered):
        if upper.low <= lower.high:
            raise ValueError(f"The bands {lower.label!r} and {upper.label!r} overlap.")
    if cutoff is not None and not y_min <= cutoff <= y_max:
        raise ValueError(f"The cut-off {cutoff} is outside the scale.")
    for marker in markers:
        if marker.kind not in MARKER_STYLES:
            raise ValueError(f"Unknown marker kind {marker.kind!r}.")
        if _marker_value(series, marker) is None:
            raise ValueError(
                f"The {MARKER_STYLES[marker.kind].label} marker for {marker.series_label!r} on "
                f"{written_date(marker.when)} matches no scored point of that series."
            )


def _marker_value(series: Sequence[Series], marker: Marker) -> float | None:
    for one in series:
        if one.label == marker.series_label:
            for point in one.points:
                if _as_datetime(point.when) == _as_datetime(marker.when) and point.value is not None:
                    return point.value
    return None


# --- drawing --------------------------------------------------------------------------------------------


def _figure(
    *,
    title: str,
    series: Sequence[Series],
    bands: Sequence[Band],
    y_min: float,
    y_max: float,
    higher_is_better: bool,
    markers: Sequence[Marker],
    cutoff: float | None,
    cutoff_label: str,
    y_ticks: Sequence[tuple[float, str]] | None = None,
    y_label: str | None = None,
) -> Figure:
    figure = Figure(figsize=(7.5, 4.2), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, loc="left", fontsize=12)
    axes.set_ylim(y_min, y_max)
    if y_label is not None:
        axes.set_ylabel(y_label)
    else:
        axes.set_ylabel("score (higher is better)" if higher_is_better else "score (lower is better)")
    if y_ticks:
        axes.set_yticks([value for value, _ in y_ticks], labels=[words for _, words in y_ticks], fontsize=8)
    # x in data units and y in axes units: band names sit just right of the plotting area.
    side = blended_transform_factory(axes.transAxes, axes.transData)

    for index, (bottom, top, band) in enumerate(_band_edges(bands, y_min, y_max)):
        axes.axhspan(bottom, top, facecolor=BAND_SHADES[index % 2], edgecolor="none", zorder=0, gid=f"band-{index}")
        axes.text(1.01, (bottom + top) / 2, band.label, transform=side, va="center", ha="left", fontsize=8, color="#333333")

    cutoff_line = None
    if cutoff is not None:
        # Named in the legend rather than beside the line, where it would cover the first scores.
        cutoff_line = axes.axhline(
            cutoff,
            color="#444444",
            linestyle=(0, (1, 2)),
            linewidth=1.2,
            zorder=1,
            gid="cutoff",
            label=f"{cutoff_label or 'cut-off'} ({written_value(cutoff)})",
        )

    all_times = [_as_datetime(p.when) for one in series for p in one.points]
    first, last = min(all_times), max(all_times)
    span = max(last - first, timedelta(days=14))
    # Room on the right for the name written at the end of each line.
    axes.set_xlim(mdates.date2num(first - span * 0.05), mdates.date2num(last + span * 0.22))
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
    # Our own month names: strftime's %b follows the process locale, and the output must not.
    axes.xaxis.set_major_formatter(FuncFormatter(_tick_date))

    lines: list[Line2D] = []
    ends: list[tuple[float, float, str, str]] = []
    for index, one in enumerate(series):
        style = SERIES_STYLES[index]
        points = _sorted(one.points)
        xs = [mdates.date2num(_as_datetime(p.when)) for p in points]
        # NaN, not zero: matplotlib breaks the line there.
        ys = [math.nan if p.value is None else p.value for p in points]
        (line,) = axes.plot(
            xs,
            ys,
            color=style["color"],
            marker=style["marker"],
            linestyle=style["linestyle"],
            markerfacecolor=style["markerfacecolor"],
            markeredgecolor=style["color"],
            markersize=7,
            linewidth=2,
            label=one.label,
            zorder=3,
            gid=f"series-{index}",
        )
        lines.append(line)
        scored = [(x, y) for x, y in zip(xs, ys, strict=True) if not math.isnan(y)]
        if scored:
            ends.append((scored[-1][0], scored[-1][1], one.label, str(style["color"])))

    for (x, y, label, color), offset in zip(ends, _label_offsets([y for _, y, _, _ in ends], y_max - y_min), strict=True):
        axes.annotate(
            label,
            xy=(x, y),
            xytext=(12, offset),
            textcoords="offset points",
            va="center",
            ha="left",
            fontsize=9,
            color=color,
            fontweight="bold",
        )

    for index, marker in enumerate(sorted(markers, key=lambda m: (_as_datetime(m.when), m.series_label))):
        value = _marker_value(series, marker)
        assert value is not None  # _check refused markers without a scored point
        look = MARKER_STYLES[marker.kind]
        x = mdates.date2num(_as_datetime(marker.when))
        axes.plot(
            [x],
            [value],
            linestyle="none",
            marker=look.marker,
            markersize=look.size,
            markerfacecolor="white",
            markeredgecolor="black",
            markeredgewidth=1.2,
            zorder=4,
            gid=f"marker-{index}",
        )
        above = value <= (y_min + y_max) / 2
        axes.annotate(
            look.label,
            xy=(x, value),
            xytext=(0, 14 if above else -14),
            textcoords="offset points",
            ha="center",
            va="bottom" if above else "top",
            fontsize=8,
            color="black",
        )

    handles: list[Line2D | Patch] = [*lines, *([cutoff_line] if cutoff_line else [])]
    for kind in sorted({m.kind for m in markers}):
        look = MARKER_STYLES[kind]
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=look.marker,
                markersize=10,
                markerfacecolor="white",
                markeredgecolor="black",
                label=look.label,
            )
        )
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.12), ncols=min(len(handles), 4), frameon=False, fontsize=9)
    return figure


def _tick_date(x: float, _position: int | None = None) -> str:
    day = mdates.num2date(x)
    return f"{day.day} {MONTHS[day.month - 1][:3]}\n{day.year}"


def _band_edges(bands: Sequence[Band], y_min: float, y_max: float) -> list[tuple[float, float, Band]]:
    """Shade each band up to halfway to the next one, so ``0-4`` and ``5-9`` meet at 4.5 with no gap."""
    ordered = sorted(bands, key=lambda b: b.low)
    edges = []
    for index, band in enumerate(ordered):
        bottom = band.low if index == 0 else (ordered[index - 1].high + band.low) / 2
        top = band.high if index == len(ordered) - 1 else (band.high + ordered[index + 1].low) / 2
        edges.append((max(bottom, y_min), min(top, y_max), band))
    return edges


def _label_offsets(values: list[float], scale: float, gap_points: float = 12) -> list[float]:
    """Vertical offsets in points that keep line-end names apart when their lines end close together."""
    offsets = [0.0] * len(values)
    order = sorted(range(len(values)), key=lambda i: values[i])
    close = scale * 0.08
    for previous, current in itertools.pairwise(order):
        if values[current] - values[previous] < close:
            offsets[current] = offsets[previous] + gap_points
    shift = (max(offsets) if offsets else 0) / 2
    return [offset - shift for offset in offsets]


def _sorted(points: Sequence[Point]) -> list[Point]:
    return sorted(points, key=lambda p: _as_datetime(p.when))


def _as_datetime(when: date | datetime) -> datetime:
    # The chart draws the caller's wall-clock dates: any zone is dropped and UTC stands in for all,
    # so dates and datetimes compare and matplotlib does no conversion.
    if isinstance(when, datetime):
        return when.replace(tzinfo=UTC)
    return datetime(when.year, when.month, when.day, tzinfo=UTC)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


# --- the SVG text ---------------------------------------------------------------------------------------

_PROLOG = re.compile(r"\A<\?xml[^>]*\?>\s*<!DOCTYPE[^>]*>\s*", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_STYLE_ELEMENT = re.compile(r"\s*<style[^>]*>\s*\*\{([^}]*)\}\s*</style>")
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
_ROOT = re.compile(r"<svg\b([^>]*)>")


def _presentation(declarations: str) -> str:
    """``fill: #fff; stroke-width: 0.8`` becomes ` fill="#fff" stroke-width="0.8"`."""
    attributes = []
    for declaration in declarations.split(";"):
        name, _, value = declaration.partition(":")
        if name.strip():
            # The value is already attribute-escaped by matplotlib; quoteattr would escape it twice.
            attributes.append(f' {name.strip()}="{value.strip()}"')
    return "".join(attributes)


def _accessible(svg: str, *, title: str, description: str) -> str:
    """Strip the prolog and metadata, turn CSS into presentation attributes, add title and desc."""
    svg = _PROLOG.sub("", svg)
    svg = _METADATA.sub("", svg, count=1)
    defaults = ""
    style = _STYLE_ELEMENT.search(svg)
    if style:
        # The "*" rule becomes inherited attributes on the root; elements that set their own win.
        defaults = _presentation(style.group(1))
        svg = svg[: style.start()] + svg[style.end() :]
    svg = _STYLE_ATTRIBUTE.sub(lambda match: _presentation(match.group(1)), svg)
    if "<style" in svg or "style=" in svg:
        # A newer matplotlib writing CSS another way: fail loudly rather than ship a chart the CSP breaks.
        raise RuntimeError("matplotlib wrote CSS that this module does not know how to rewrite.")
    ident = "chart-" + hashlib.sha256(f"{title}\n{description}".encode()).hexdigest()[:12]
    head = (
        f' role="img" aria-labelledby="{ident}-title {ident}-desc"{defaults}>\n'
        f' <title id="{ident}-title">{escape(title)}</title>\n'
        f' <desc id="{ident}-desc">{escape(description)}</desc>'
    )
    svg = _ROOT.sub(lambda match: f"<svg{match.group(1)}{head}", svg, count=1)
    return svg


__all__ = [
    "SERIES_LOOKS",
    "Band",
    "Marker",
    "Point",
    "Series",
    "TableRow",
    "series_chart",
    "series_description",
    "series_table",
    "svg_data_uri",
    "written_date",
    "written_value",
]
