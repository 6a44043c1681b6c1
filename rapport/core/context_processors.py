from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def rapport(request: HttpRequest) -> dict[str, Any]:
    return {"RAPPORT_ENV": settings.RAPPORT_ENV}
