"""Charts: valid, accessible, deterministic SVG that reads without colour and holds no inline CSS."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.reports.charts import (
    Band,
    Marker,
    Point,
    Series,
    series_chart,
    series_description,
    series_table,
    svg_data_uri,
)

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"

# PHQ-9 severity words as published (Kroenke, Spitzer & Williams 2001).
PHQ9_BANDS = [
    Band("none_minimal", "none to minimal", 0, 4),
    Band("mild", "mild", 5, 9),
    Band("moderate", "moderate", 10, 14),
    Band("moderately_severe", "moderately severe", 15, 19),
    Band("severe", "severe", 20, 27),
]


def _sam(values: list[float | None] | None = None) -> Series:
    values = values if values is not None else [18, 15, 12, 9]
    start = date(2026, 3, 3)
    return Series("Sam", [Point(start + timedelta(days=14 * i), value) for i, value in enumerate(values)])


def _chart(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "title": "PHQ-9 total",
        "description": "Scores over time",
        "series": [_sam()],
        "bands": PHQ9_BANDS,
        "y_min": 0,
        "y_max": 27,
        "higher_is_better": False,
    }
    arguments.update(overrides)
    return series_chart(**arguments)  # type: ignore[arg-type]


def _couple() -> list[Series]:
    robin = Series("Robin", [Point(date(2026, 3, 3) + timedelta(days=14 * i), v) for i, v in enumerate([10, 12, 14, 17])])
    return [_sam(), robin]


def _parse(svg: str) -> ET.Element:
    # Our own output, built from fixed test data: not untrusted XML.
    return ET.fromstring(svg)  # noqa: S314


def _group(root: ET.Element, gid: str) -> ET.Element:
    found = root.find(f".//{SVG}g[@id='{gid}']")
    assert found is not None, f"no group {gid}"
    return found


def _texts(root: ET.Element) -> list[str]:
    return ["".join(element.itertext()) for element in root.iter(f"{SVG}text")]


def test_it_renders_an_svg_document_with_title_and_description_holding_the_numbers() -> None:
    svg = _chart(reliable_change_markers=[Marker(date(2026, 4, 14), "reliable_improvement", "Sam")])
    root = _parse(svg)

    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root[0], root[1]
    assert title.tag == f"{SVG}title"
    assert title.text == "PHQ-9 total"
    assert desc.tag == f"{SVG}desc"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert desc.text == (
        "PHQ-9 total. Scores over time. Sam, from 3 March 2026 to 14 April 2026: 18 on 3 March 2026, "
        "15 on 17 March 2026, 12 on 31 March 2026, 9 on 14 April 2026. A reliable improvement for Sam on "
        "14 April 2026. Shaded ranges: none to minimal 0 to 4, mild 5 to 9, moderate 10 to 14, "
        "moderately severe 15 to 19, severe 20 to 27."
    )


def test_the_same_input_gives_the_same_bytes() -> None:
    first = _chart(series=_couple(), cutoff=10, cutoff_label="usual cut-off")
    second = _chart(series=_couple(), cutoff=10, cutoff_label="usual cut-off")

    assert first == second


def test_it_holds_no_inline_css_for_the_content_security_policy_to_block() -> None:
    svg = _chart(series=_couple(), cutoff=10, cutoff_label="usual cut-off")

    assert "style=" not in svg
    assert "<style" not in svg
    root = _parse(svg)
    # The CSS became presentation attributes: the dashed line still has its dashes.
    dashed = _group(root, "series-1").find(f"{SVG}path")
    assert dashed is not None
    assert dashed.get("stroke-dasharray")
    assert root.get("stroke-linejoin") == "round"


def test_it_writes_no_render_date_no_path_and_no_prolog() -> None:
    old = [Series("Sam", [Point(date(2019, 5, 6), 12), Point(date(2019, 6, 3), 8)])]
    svg = _chart(series=old)

    # Only text can carry a date: coordinates and hashed ids may contain any digits.
    words = " ".join(element.text or "" for element in _parse(svg).iter())
    assert "2019" in words
    assert str(date.today().year) not in words
    assert "dc:date" not in svg
    assert "<metadata" not in svg
    assert "<?xml" not in svg
    assert "DOCTYPE" not in svg
    assert not re.search(r"(/home/|/tmp/|/work/|/usr/|site-packages|[A-Z]:\\)", svg)


def test_a_missing_score_breaks_the_line_instead_of_dropping_to_zero() -> None:
    svg = _chart(series=[_sam([18, 15, None, 9, 8])])
    root = _parse(svg)
    series = _group(root, "series-0")

    line = series.find(f"{SVG}path")
    assert line is not None
    assert line.get("d", "").count("M") == 2  # two pieces: before and after the gap
    markers = series.findall(f".//{SVG}use")
    assert len(markers) == 4  # one per score, none for the missing one
    assert "no score on 31 March 2026" in svg


def test_a_single_point_still_renders() -> None:
    svg = _chart(series=[Series("Sam", [Point(date(2026, 3, 3), 11)])])
    root = _parse(svg)

    assert len(_group(root, "series-0").findall(f".//{SVG}use")) == 1
    assert "Sam, on 3 March 2026: 11 on 3 March 2026." in svg


def test_partners_differ_in_marker_fill_and_dash_not_only_in_colour() -> None:
    root = _parse(_chart(series=_couple()))
    first, second = _group(root, "series-0"), _group(root, "series-1")

    def marker_shape(group: ET.Element) -> str:
        use = group.find(f".//{SVG}use")
        assert use is not None
        shape = root.find(f".//{SVG}path[@id='{use.get(XLINK + 'href', '')[1:]}']")
        assert shape is not None
        return shape.get("d", "")

    def dash(group: ET.Element) -> str | None:
        line = group.find(f"{SVG}path")
        assert line is not None
        return line.get("stroke-dasharray")

    assert marker_shape(first) != marker_shape(second)
    assert dash(first) != dash(second)
    # Named at the end of each line and in the legend: each name is written twice.
    texts = _texts(root)
    assert texts.count("Sam") == 2
    assert texts.count("Robin") == 2


def test_bands_are_named_in_text() -> None:
    texts = _texts(_parse(_chart()))

    for band in PHQ9_BANDS:
        assert band.label in texts
    assert "score (lower is better)" in texts


def test_reliable_changes_are_shaped_and_written() -> None:
    markers = [
        Marker(date(2026, 4, 14), "reliable_improvement", "Sam"),
        Marker(date(2026, 4, 14), "reliable_deterioration", "Robin"),
    ]
    root = _parse(_chart(series=_couple(), reliable_change_markers=markers))
    texts = _texts(root)

    # Once beside the point and once in the legend.
    assert texts.count("reliable improvement") == 2
    assert texts.count("reliable deterioration") == 2
    assert _group(root, "marker-0") is not None
    assert _group(root, "marker-1") is not None
    desc = root.find(f"{SVG}desc")
    assert desc is not None
    assert desc.text is not None
    assert "A reliable deterioration for Robin on 14 April 2026. A reliable improvement for Sam on 14 April 2026." in desc.text


def test_the_cut_off_is_named_in_the_legend_and_the_description() -> None:
    svg = _chart(cutoff=10, cutoff_label="usual cut-off")

    assert "usual cut-off (10)" in _texts(_parse(svg))
    assert "Dotted line at 10: usual cut-off." in svg


def test_text_from_callers_is_escaped() -> None:
    svg = _chart(title="Score <b>& more</b>", series=[Series('A "B" & <C>', [Point(date(2026, 1, 5), 3)])])
    root = _parse(svg)

    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text == "Score <b>& more</b>"
    assert 'A "B" & <C>' in _texts(root)


def test_datetimes_are_shown_by_their_own_date() -> None:
    late = datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    svg = _chart(series=[Series("Sam", [Point(late, 7), Point(date(2026, 3, 10), 6)])])

    assert "7 on 3 March 2026, 6 on 10 March 2026" in svg


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"series": []}, "at least one series"),
        ({"series": [Series("Sam", [])]}, "has no points"),
        ({"series": [_sam(), _sam()]}, "its own non-empty label"),
        ({"series": [_sam([30])]}, "outside the scale 0 to 27"),
        ({"series": [_sam([float("nan")])]}, "outside the scale"),
        ({"y_min": 5, "y_max": 5}, "from a lower to a higher number"),
        ({"bands": [Band("a", "a", 0, 10), Band("b", "b", 10, 20)]}, "overlap"),
        ({"bands": [Band("a", "a", 0, 40)]}, "not inside the scale"),
        ({"cutoff": 99}, "cut-off 99 is outside"),
        ({"reliable_change_markers": [Marker(date(2026, 3, 4), "reliable_improvement", "Sam")]}, "matches no scored point"),
        ({"reliable_change_markers": [Marker(date(2026, 3, 3), "reliable_improvement", "Kim")]}, "matches no scored point"),
        ({"reliable_change_markers": [Marker(date(2026, 3, 3), "better", "Sam")]}, "Unknown marker kind"),  # type: ignore[arg-type]
    ],
)
def test_input_that_cannot_be_drawn_honestly_is_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _chart(**overrides)


def test_the_table_has_one_row_per_date_and_a_column_per_series() -> None:
    sam = Series("Sam", [Point(date(2026, 3, 3), 18), Point(date(2026, 3, 17), None)])
    robin = Series("Robin", [Point(date(2026, 3, 17), 12.5, "prorated"), Point(date(2026, 3, 3), 10)])

    rows = series_table([sam, robin])

    assert [(row.written_date, row.values) for row in rows] == [
        ("3 March 2026", ("18", "10")),
        ("17 March 2026", ("no score", "12.5 (prorated)")),
    ]


def test_the_description_can_be_had_without_drawing() -> None:
    words = series_description(title="WHO-5", description="", series=[Series("Sam", [Point(date(2026, 2, 1), 52)])])

    assert words == "WHO-5. Sam, on 1 February 2026: 52 on 1 February 2026."


def test_the_data_uri_decodes_to_the_svg() -> None:
    svg = _chart()
    uri = svg_data_uri(svg)

    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).decode() == svg


DAY = timedelta(days=1)
scores = st.one_of(st.none(), st.integers(min_value=0, max_value=27).map(float), st.floats(min_value=0, max_value=27, allow_nan=False))


@st.composite
def random_series(draw: st.DrawFn) -> list[Series]:
    count = draw(st.integers(min_value=1, max_value=2))
    result = []
    for index in range(count):
        offsets = draw(st.lists(st.integers(min_value=0, max_value=3 * 365), min_size=1, max_size=60, unique=True))
        points = [Point(date(2025, 1, 1) + offset * DAY, draw(scores)) for offset in offsets]
        result.append(Series(f"Person {index + 1}", points))
    return result


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_series())
def test_any_series_in_range_renders_valid_svg_with_every_score_drawn(series: list[Series]) -> None:
    svg = _chart(series=series)
    root = _parse(svg)

    for index, one in enumerate(series):
        scored = sum(1 for point in one.points if point.value is not None)
        assert len(_group(root, f"series-{index}").findall(f".//{SVG}use")) == scored
    assert "style=" not in svg
