"""The chart core (rapport.reports.charts): median time to draw a year of weekly scores of a couple.

Two series of 52 weekly PHQ-9 totals (seeded, with a few missing scores), the published bands, a
cut-off and two reliable-change markers: the biggest chart a page draws today. The figure is the
median of the timed renders after one warm-up (which also loads matplotlib's font cache). No target
exists in RELIABILITY.md. Correctness: every render must be byte-identical to the first.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from benchmarks.timing import Result, median, timed
from rapport.reports.charts import Band, Marker, Point, Series, series_chart

RUNS = {False: 15, True: 3}
WEEKS = 52
BANDS = [
    Band("none_minimal", "none to minimal", 0, 4),
    Band("mild", "mild", 5, 9),
    Band("moderate", "moderate", 10, 14),
    Band("moderately_severe", "moderately severe", 15, 19),
    Band("severe", "severe", 20, 27),
]


def _couple() -> list[Series]:
    rng = random.Random(20261126)
    start = date(2025, 1, 6)
    couple = []
    for label in ("Partner A", "Partner B"):
        level = rng.uniform(12, 20)
        points = []
        for week in range(WEEKS):
            level = min(27.0, max(0.0, level + rng.uniform(-1.5, 1.0)))
            value = None if rng.random() < 0.05 else float(round(level))
            points.append(Point(start + timedelta(weeks=week), value))
        couple.append(Series(label, points))
    return couple


def chart_render(world: Any, *, quick: bool) -> Result:
    """Milliseconds to draw one two-series, 52-point chart as SVG."""
    couple = _couple()
    last_scored = next(p for p in reversed(couple[0].points) if p.value is not None)
    arguments: dict[str, Any] = {
        "title": "PHQ-9 total",
        "description": "Weekly scores of a couple",
        "series": couple,
        "bands": BANDS,
        "y_min": 0,
        "y_max": 27,
        "higher_is_better": False,
        "cutoff": 10,
        "cutoff_label": "usual cut-off",
        "reliable_change_markers": [Marker(last_scored.when, "reliable_improvement", "Partner A")],
    }
    first = series_chart(**arguments)
    outputs: list[str] = []
    runs = [timed(lambda: outputs.append(series_chart(**arguments))) for _ in range(RUNS[quick])]
    differing = sum(1 for svg in outputs if svg != first)
    return Result(
        name="chart_render",
        size=WEEKS * len(couple),
        median=f"{median(runs) * 1000:.0f} ms per chart",
        runs=f"{len(runs)} renders after 1 warm-up",
        details=[
            f"{len(couple)} series of {WEEKS} weekly scores, 5 bands, a cut-off, 1 marker; {len(first):,} bytes of SVG; "
            f"renders identical to the first: {'all' if differing == 0 else f'{differing} DIFFER'}",
        ],
        ok=differing == 0,
    )
