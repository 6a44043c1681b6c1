"""HTML to PDF with WeasyPrint, offline: a PDF is built from the page it is given and nothing else.

Every URL the HTML names (an image, a stylesheet, a font) is refused, so rendering a document
never reaches the network or the file system, whatever ends up in the HTML. Styles come inside
the HTML (a ``<style>`` element) or as a string; fonts from the machine's fontconfig (DejaVu on
Debian). WeasyPrint is imported on first use: it takes a moment to load, and most processes
(a web worker between downloads, a management command) never render a PDF.
"""

from __future__ import annotations

from functools import cache
from typing import Any


class ExternalResourceRefused(ValueError):
    """What the fetcher raises for every URL; WeasyPrint logs it and renders without the resource."""


@cache
def _refusing_fetcher_class() -> type:
    from weasyprint.urls import URLFetcher

    class RefusingFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ExternalResourceRefused("Rapport's PDFs load no external resources")

    return RefusingFetcher


def refusing_fetcher() -> Any:
    """A WeasyPrint URL fetcher that fetches nothing."""
    return _refusing_fetcher_class()()


def html_to_pdf(html: str, *, css: str = "") -> bytes:
    """The PDF of ``html`` (a whole document), styled by its own ``<style>`` and ``css``."""
    from weasyprint import CSS, HTML

    fetcher = refusing_fetcher()
    stylesheets = [CSS(string=css, url_fetcher=fetcher)] if css else []
    # base_url=None: a relative URL has nothing to resolve against, so it too goes nowhere.
    pdf = HTML(string=html, base_url=None, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets)
    if pdf is None:  # pragma: no cover - write_pdf returns bytes when no target is given
        raise RuntimeError("WeasyPrint produced no PDF")
    return bytes(pdf)
