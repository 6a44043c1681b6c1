"""Fixed-window rate limits for the public booking pages, kept in Django's cache.

Nobody signs in to book, so the only brakes on a script are the sender's address and the email
address it books for. The numbers are constants on purpose: they protect the practice's diary and
inbox, not a tuning knob, and they sit far above what a person needs (one booking, perhaps a
second try after "this time was just taken", a change or two later on).

Counting uses the cache's ``add`` (first hit in a window) and ``incr`` (every later hit). With
Redis both are atomic, so web workers sharing it never lose a count. Django's file cache (the
default without Redis) implements ``incr`` as a read and a write, so two workers hitting at the
same instant can lose one count: the limit is then a little looser, never stricter. Keys are HMACs of the address, so the cache never holds an email
address or IP in the clear.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from rapport.core.client_ip import client_ip


@dataclass(frozen=True)
class Limit:
    name: str
    max_hits: int
    window_seconds: int

    @property
    def window_text(self) -> str:
        return "hour" if self.window_seconds == 3600 else "day" if self.window_seconds == 86400 else f"{self.window_seconds} seconds"


# Booking form submissions from one address: a household or office behind one NAT may book a few
# times, a script may not.
BOOKING_POSTS_PER_IP = Limit("booking-ip", 10, 3600)
# Bookings attempted for one email address: stops one person's inbox being flooded with
# confirmations by someone else, and one person from holding many free times.
BOOKING_POSTS_PER_EMAIL = Limit("booking-email", 5, 86400)
# Cancelling or moving through manage links, from one address.
MANAGE_POSTS_PER_IP = Limit("manage-ip", 20, 3600)


def _cache_key(limit: Limit, subject: str, now: float) -> str:
    window = int(now // limit.window_seconds)
    digest = salted_hmac("rapport.site.ratelimit", f"{limit.name}:{subject}").hexdigest()
    return f"rapport:ratelimit:{limit.name}:{window}:{digest}"


def hit(limit: Limit, subject: str, *, now: float | None = None) -> bool:
    """Count one attempt by ``subject``; return whether it is still within the limit."""
    key = _cache_key(limit, subject.strip().lower(), time.time() if now is None else now)
    if cache.add(key, 1, timeout=limit.window_seconds):
        return limit.max_hits >= 1
    try:
        count = cache.incr(key)
    except ValueError:
        # The entry expired between add and incr: this is the first hit of a fresh window.
        cache.add(key, 1, timeout=limit.window_seconds)
        count = 1
    return count <= limit.max_hits


def hit_by_address(limit: Limit, request: HttpRequest) -> bool:
    """Count one attempt from the request's client address (through trusted proxies only)."""
    return hit(limit, client_ip(request) or "unknown")
