"""A chart survives the site's own Content-Security-Policy in Chromium, inlined and as a data: image."""

from __future__ import annotations

from datetime import date

from csp.utils import build_policy
from playwright.sync_api import Browser, Route

from rapport.reports.charts import Point, Series, series_chart, series_description, svg_data_uri

ORIGIN = "https://rapport.test"


def _chart() -> tuple[str, str]:
    couple = [
        Series("Sam", [Point(date(2026, 3, 3), 18), Point(date(2026, 3, 17), 12)]),
        Series("Robin", [Point(date(2026, 3, 3), 10), Point(date(2026, 3, 17), 14)]),
    ]
    arguments = {"title": "PHQ-9 total", "description": "Scores over time", "series": couple}
    svg = series_chart(**arguments, y_min=0, y_max=27, higher_is_better=False)  # type: ignore[arg-type]
    return svg, series_description(**arguments)  # type: ignore[arg-type]


def test_an_inlined_and_an_image_chart_render_with_no_csp_violation(browser: Browser) -> None:
    svg, description = _chart()
    html = (
        "<!doctype html><html lang='en'><head><title>Chart</title></head><body>"
        f"<div id='inline'>{svg}</div>"
        f"<img id='image' src='{svg_data_uri(svg)}' alt='{description}'>"
        "</body></html>"
    )

    def serve(route: Route) -> None:
        # The policy every Rapport page gets, built from settings by django-csp itself.
        route.fulfill(status=200, content_type="text/html", headers={"Content-Security-Policy": build_policy()}, body=html)

    context = browser.new_context()
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
        page.route(f"{ORIGIN}/**", serve)
        page.goto(f"{ORIGIN}/chart")

        dash = page.evaluate("getComputedStyle(document.querySelector('#inline g#series-1 path')).strokeDasharray")
        fill = page.evaluate("getComputedStyle(document.querySelector('#inline g#series-0 path')).fill")
        width = page.evaluate("document.querySelector('#image').naturalWidth")
    finally:
        context.close()

    assert violations == []
    assert dash not in {"", "none"}  # the partner's dashes came through as presentation attributes
    assert fill == "none"  # a line, not a filled shape: matplotlib's fill reached the browser
    assert width > 0
