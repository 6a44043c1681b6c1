"""The client's address, for the audit trail and the lockout, whether or not a proxy is in front.

Behind a reverse proxy REMOTE_ADDR is the proxy itself. X-Forwarded-For is only trusted as far as
RAPPORT_TRUSTED_PROXIES says: with N trusted proxies, the address the N-th proxy from us saw is
the N-th entry from the right; anything further left was written by the client and can be forged.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.RAPPORT_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
