from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class PrivateResponseHeadersMiddleware:
    """Keep pages shown to a signed-in person out of every cache (ASVS 5.0 14.3.2)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response
