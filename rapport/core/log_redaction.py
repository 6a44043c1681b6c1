"""Keep link credentials out of the application's log.

Several links carry their credential in the path: booking manage links, invitations, the export
download, the private calendar feed, allauth's email confirmation and password reset. Django logs
paths (``django.request`` for every 4xx/5xx, ``django.server`` for every request under
``runserver``), so without this filter a refused or expired link would leave a working-looking
credential in the log. The filter rewrites such a path segment to ``[redacted]``.

Which paths carry a credential is read from the URLconf itself (every route with a ``token`` or
``key`` argument), so a new link route is covered the day it is added; a test walks the URLconf
to hold that true.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import cache

from django.core.exceptions import ImproperlyConfigured

SECRET_ARGUMENTS = frozenset({"token", "key"})
REDACTED = "[redacted]"


def _secret_prefixes() -> Iterator[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver: URLResolver, prefix: str) -> Iterator[str]:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern).lstrip("^")
            if isinstance(entry, URLResolver):
                yield from walk(entry, route)
            elif isinstance(entry, URLPattern) and SECRET_ARGUMENTS & set(entry.pattern.regex.groupindex):
                # The literal part before the first argument: "/portal/welcome/", "/booking/", ...
                yield "/" + re.split(r"[<(]", route, maxsplit=1)[0]

    yield from walk(get_resolver(), "")


@cache
def _secret_path() -> re.Pattern[str]:
    prefixes = sorted(set(_secret_prefixes()), key=len, reverse=True)
    # The credential is the segment right after the prefix: up to the next slash, space, quote or query.
    return re.compile("(" + "|".join(re.escape(p) for p in prefixes) + r")[^/\s?#\"']+")


def redact_paths(text: str) -> str:
    return _secret_path().sub(lambda match: match.group(1) + REDACTED, text)


class SecretPathFilter(logging.Filter):
    """A handler filter: never drops a record, only rewrites a credential in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        try:
            redacted = redact_paths(message)
        except (ImportError, ImproperlyConfigured):
            # A record logged while the URLconf's own imports are half done (matplotlib building its
            # font cache as a view module imports the charts, on a fresh machine) cannot read the
            # URLconf yet: Django finds no ``urlpatterns`` in the half-imported module, or a name is
            # missing from one. No request has been served, so there is no link to hide; the pattern
            # is built, and cached, on a later record.
            return True
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
