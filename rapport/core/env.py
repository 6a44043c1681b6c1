"""Typed readers for environment variables that fail loudly.

Settings read every value through these helpers so that a wrong or missing value stops start-up
with a message naming the variable, instead of surfacing later as a confusing error.
A secret may come from ``NAME`` or from a file named by ``NAME_FILE`` (Docker/systemd secrets).
"""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str:
    value = _raw(name)
    if value is None:
        if required:
            raise ImproperlyConfigured(f"Environment variable {name} is required but not set.")
        if default is None:
            return ""
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"Environment variable {name} must be true or false, got {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"Environment variable {name} must be an integer, got {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"Environment variable {name} must be at least {minimum}, got {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str) -> str | None:
    """Return a secret from ``NAME`` or from the file named by ``NAME_FILE``; both set is an error."""
    direct = _raw(name)
    file_name = _raw(f"{name}_FILE")
    if direct is not None and file_name is not None:
        raise ImproperlyConfigured(f"Set either {name} or {name}_FILE, not both.")
    if file_name is not None:
        path = Path(file_name)
        try:
            content = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE points to {file_name!r}, which cannot be read: {exc.strerror}.") from None
        if not content:
            raise ImproperlyConfigured(f"{name}_FILE points to {file_name!r}, which is empty.")
        return content
    return direct


def env_time_zone(name: str, default: str) -> str:
    value = _raw(name) or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(f"Environment variable {name} names an unknown time zone: {value!r}.") from None
    return value


def env_url(name: str, default: str = "", *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    value = _raw(name) or default
    if not value:
        return ""
    parts = urlsplit(value)
    # unix:///path/to/socket has a path and no host; every other scheme needs a host.
    if parts.scheme not in schemes or not (parts.netloc or (parts.scheme == "unix" and parts.path)):
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, got {value!r}."
        )
    return value.rstrip("/")
