"""Headers for pages reached through a link whose URL is a credential (manage, welcome, check-in links)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse


def link_page(*, referrer: str = "no-referrer") -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """No cache keeps the page, no search engine lists it, and no referrer carries its URL off the site.

    Pages with a POST form pass ``referrer="same-origin"``: under "no-referrer" browsers send
    ``Origin: null`` with the form, and Django's CSRF check rightly refuses that; "same-origin"
    still sends the URL to no other site (the video server, say).
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            response["Referrer-Policy"] = referrer
            response["Cache-Control"] = "no-store"
            response["X-Robots-Tag"] = "noindex"
            return response

        return wrapped

    return decorate
