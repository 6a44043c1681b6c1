from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError


def validate_time_zone(value: str) -> None:
    """Accept only IANA zone names that this system's tz database knows."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError("%(value)s is not a known IANA time zone.", params={"value": value}) from None


def first_known_zone(*names: str) -> zoneinfo.ZoneInfo:
    """The first of ``names`` that is a known zone, else UTC: for wording a time to someone whose
    zone was saved before validation existed, or has since left the tz database."""
    for name in names:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            continue
    return zoneinfo.ZoneInfo("UTC")
