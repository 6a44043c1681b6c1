"""How django-axes identifies an account: allauth authenticates with ``email=``, not ``username=``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    value = None
    if credentials:
        value = credentials.get("email") or credentials.get("username") or credentials.get("login")
    if value is None and request is not None and hasattr(request, "POST"):
        value = request.POST.get("login")
    return str(value).strip().lower() if value else None
