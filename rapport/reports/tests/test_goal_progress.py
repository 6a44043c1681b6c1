"""Goal progress as pages show it: words, legend, table, the y axis's meanings, and the T-score by day.

Built from unsaved model instances: the builder reads nothing from the database.
"""

from __future__ import annotations

import base64
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from rapport.clients.models import Case, Client
from rapport.plans.gas import t_score
from rapport.plans.models import GoalRating, ItemRevision, PlanItem
from rapport.plans.progress import CaseProgress, GoalProgress
from rapport.reports import charts
from rapport.reports.goal_progress import goal_chart, progress_page, t_score_chart
from rapport.scheduling.models import Appointment

TORONTO = ZoneInfo("America/Toronto")
SVG = "{http://www.w3.org/2000/svg}"
PAT = Client(pk=1, full_name="Pat Partner")
QUINN = Client(pk=2, full_name="Quinn Partner")
LEVELS = {"-2": "We stop talking", "-1": "We argue about money most evenings of the week", "0": "", "1": "Most evenings", "2": "Every day"}


def _goal(pk: int, words: str, ratings: list[tuple[Client | None, int, datetime]], *, levels=None, weight=None, owner=None, session=None):
    item = PlanItem(pk=pk, public_id=uuid.uuid4(), kind="goal", scope="individual" if owner else "joint", owner=owner)
    revision = ItemRevision(client_words=words, gas_levels=levels, weight=weight)
    rows = []
    for n, (client, level, when) in enumerate(ratings):
        rating = GoalRating(pk=pk * 100 + n, level=level, rated_at=when, client=client, rater_role="client" if client else "therapist")
        if session is not None and client is None:
            rating.appointment = session
        rows.append(rating)
    return GoalProgress(item=item, revision=revision, ratings=rows)


def _progress(goals, viewer=None, members=(PAT, QUINN)):
    return CaseProgress(case=Case(), members=list(members), viewer_client=viewer, goals=goals)


def _utc(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


def _svg_text(uri: str) -> str:
    return base64.b64decode(uri.split(",", 1)[1]).decode()


def test_a_goal_reads_as_legend_sentences_and_rows_with_the_session():
    session = Appointment(start=datetime(2026, 3, 3, 15, tzinfo=UTC))
    goal = _goal(
        1,
        "We want to argue less about money",
        [(None, -2, _utc(2026, 3, 3, 16)), (PAT, -1, _utc(2026, 3, 4)), (QUINN, 0, _utc(2026, 3, 5)), (None, 1, _utc(2026, 3, 17, 16))],
        levels=LEVELS,
        session=session,
    )
    chart = goal_chart(goal, _progress([goal]), TORONTO)
    assert chart.legend == (
        "Therapist: filled circles joined by a solid line",
        "Pat Partner: open squares joined by a dashed line",
        "Quinn Partner: filled triangles joined by a dotted line",
    )
    assert chart.movement == (
        "The therapist's ratings moved from -2 on 3 March 2026 to +1 on 17 March 2026, 3 levels up (2 ratings).",
        "Pat Partner's rating: -1 on 4 March 2026.",
        "Quinn Partner's rating: 0 on 5 March 2026.",
    )
    assert [(r.written_date, r.who, r.level, r.level_words, r.session) for r in chart.rows] == [
        ("3 March 2026", "Therapist", "-2", "We stop talking", "3 March 2026"),
        ("4 March 2026", "Pat Partner", "-1", "We argue about money most evenings of the week", ""),
        ("5 March 2026", "Quinn Partner", "0", "as expected", ""),
        ("17 March 2026", "Therapist", "+1", "Most evenings", "3 March 2026"),
    ]
    assert chart.scope == "Joint"
    assert chart.described


def test_the_y_axis_carries_the_goals_own_level_words_shortened():
    goal = _goal(1, "Argue less", [(None, 0, _utc(2026, 3, 3))], levels=LEVELS)
    svg = _svg_text(goal_chart(goal, _progress([goal]), TORONTO).chart_uri)
    texts = ["".join(t.itertext()).strip() for t in ET.fromstring(svg).iter(f"{SVG}text")]  # noqa: S314 (our own output)
    assert "+2 Every day" in texts
    assert "-2 We stop talking" in texts
    # A blank description falls back to the scale's words; a long one is shortened on the axis only.
    assert "0 as expected" in texts
    assert any(t.startswith("-1 We argue about money") and t.endswith("…") for t in texts)
    assert "level rated" in texts


def test_moving_down_and_staying_are_said_plainly():
    goal = _goal(
        1, "Sleep", [(None, 1, _utc(2026, 3, 3)), (None, -1, _utc(2026, 3, 10)), (PAT, 0, _utc(2026, 3, 3)), (PAT, 0, _utc(2026, 3, 10))]
    )
    chart = goal_chart(goal, _progress([goal]), TORONTO)
    assert chart.movement == (
        "The therapist's ratings moved from +1 on 3 March 2026 to -1 on 10 March 2026, 2 levels down (2 ratings).",
        "Pat Partner's ratings: 0 on 3 March 2026, and 0 on 10 March 2026 (2 ratings).",
    )


def test_a_client_reader_never_gets_the_other_partners_ratings_even_if_handed_them():
    goal = _goal(1, "Joint", [(PAT, 1, _utc(2026, 3, 3)), (QUINN, -2, _utc(2026, 3, 4)), (None, 0, _utc(2026, 3, 5))])
    chart = goal_chart(goal, _progress([goal], viewer=PAT), TORONTO)
    assert [row.who for row in chart.rows] == ["You", "Your therapist"]
    assert "Quinn" not in chart.description
    assert "Quinn" not in _svg_text(chart.chart_uri)
    assert chart.scope == "Joint"


def test_a_goal_without_ratings_has_no_chart_and_the_scales_words():
    goal = _goal(1, "Not yet", [], owner=PAT)
    chart = goal_chart(goal, _progress([goal]), TORONTO)
    assert chart.chart_uri == ""
    assert chart.rows == ()
    assert chart.scope == "Pat Partner's own"
    assert not chart.described
    assert chart.levels[0].meaning == "much more than expected"


def test_the_t_score_is_one_point_per_rater_and_day_in_the_readers_zone():
    # 23:30 and 00:30 Toronto time fall on two days there, though on one UTC day.
    late = datetime(2026, 3, 3, 23, 30, tzinfo=TORONTO)
    early = datetime(2026, 3, 4, 0, 30, tzinfo=TORONTO)
    assert late.astimezone(UTC).date() == early.astimezone(UTC).date()
    first = _goal(1, "One", [(None, -1, late), (None, 0, early), (PAT, 2, early)], weight=2)
    second = _goal(2, "Two", [(None, 1, late), (None, 2, datetime(2026, 3, 3, 23, 45, tzinfo=TORONTO))])
    chart = t_score_chart(_progress([first, second]), TORONTO)
    assert chart is not None
    assert chart.columns == ("Therapist", "Pat Partner")
    rows = {row.when: row.values for row in chart.rows}
    # 3 March: the later rating of goal two that day (+2) replaces the earlier one (+1).
    assert rows[date(2026, 3, 3)] == (f"{round(t_score([-1, 2], [2, 1]), 1):g} (all 2 goals)", "")
    assert rows[date(2026, 3, 4)] == (f"{round(t_score([0], [2]), 1):g} (1 of 2 goals)", f"{round(t_score([2], [2]), 1):g} (1 of 2 goals)")
    assert chart.movement[0].startswith("The therapist's ratings: moved from ")
    assert chart.legend[-1] == "Pat Partner: open squares joined by a dashed line"


def test_the_t_score_axis_widens_for_many_goals_rated_far_from_expected():
    goals = [_goal(n, f"Goal {n}", [(None, 2, _utc(2026, 3, 3))]) for n in range(1, 7)]
    chart = t_score_chart(_progress(goals), TORONTO)
    assert chart is not None
    assert t_score([2] * 6) > 70
    assert chart.rows[0].values == (f"{round(t_score([2] * 6), 1):g} (all 6 goals)",)


def test_nothing_rated_means_no_t_score_and_a_client_never_gets_one():
    unrated = _goal(1, "One", [])
    assert t_score_chart(_progress([unrated]), TORONTO) is None
    rated = _goal(1, "One", [(PAT, 1, _utc(2026, 3, 3)), (None, 1, _utc(2026, 3, 3))])
    assert progress_page(_progress([rated], viewer=PAT), TORONTO).t_score is None
    assert progress_page(_progress([rated]), TORONTO).t_score is not None


def test_series_chart_ticks_must_lie_on_the_scale():
    series = [charts.Series("A", [charts.Point(date(2026, 3, 3), 1)])]
    with pytest.raises(ValueError, match="The tick at 3"):
        charts.series_chart(title="t", description="d", series=series, y_min=-2, y_max=2, higher_is_better=True, y_ticks=[(3, "three")])


def test_series_chart_without_ticks_or_label_is_unchanged():
    series = [charts.Series("A", [charts.Point(date(2026, 3, 3), 1)])]
    plain = charts.series_chart(title="t", description="d", series=series, y_min=0, y_max=2, higher_is_better=True)
    assert plain == charts.series_chart(title="t", description="d", series=series, y_min=0, y_max=2, higher_is_better=True, y_ticks=None)
    assert "score (higher is better)" in plain
    labelled = charts.series_chart(
        title="t", description="d", series=series, y_min=0, y_max=2, higher_is_better=True, y_label="level rated"
    )
    assert "level rated" in labelled
    assert "score (higher is better)" not in labelled


def test_each_series_look_has_words():
    assert len(charts.SERIES_LOOKS) == len(charts.SERIES_STYLES)
