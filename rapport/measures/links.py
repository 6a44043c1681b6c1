"""Where a check-in's one-time link points.

The page behind it (URL name ``checkin_link``) lives in a UI app, above measures in the layers,
and is being built alongside the emails; until both are merged the path is written out here.
Once the route exists this becomes ``reverse("checkin_link", ...)`` and nothing else changes.
"""

from __future__ import annotations

from django.conf import settings


def checkin_link_path(token: str) -> str:
    """The site-relative path of the one-time link for ``token``."""
    return f"/checkin/{token}/"


def checkin_link_url(token: str) -> str:
    """The absolute link for an email, on the site's public address (``SITE_URL``)."""
    return settings.SITE_URL + checkin_link_path(token)
