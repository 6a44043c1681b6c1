"""Fragment-or-page rendering: htmx requests get the partial, everyone else the full page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page_or_fragment(
    request: HttpRequest, page_template: str, fragment_template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """Render ``fragment_template`` for an htmx request, ``page_template`` (which includes it) otherwise.

    The response varies on ``HX-Request`` so no cache serves a fragment as a page. A history
    restore (the visitor goes back and htmx has no copy of the page) gets the whole page: htmx
    sends HX-Request then too, but swaps the answer in as the page.
    """
    htmx = getattr(request, "htmx", None)
    template = fragment_template if htmx and not htmx.history_restore_request else page_template
    response = render(request, template, context, status=status)
    response["Vary"] = "HX-Request"
    return response
