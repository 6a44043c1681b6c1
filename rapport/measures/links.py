"""The one-time link to a check-in: one place, so the pages and the emails agree on it.

Reversed by name: the page lives in the portal, above this app, and is not imported from here.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def checkin_link_path(token: str) -> str:
    """The path of the one-time link for ``token``: ``/checkin/<token>/``."""
    return reverse("checkin_link", kwargs={"token": token})


def checkin_link_url(token: str) -> str:
    """The absolute link for an email, on the site's public address (``SITE_URL``)."""
    return settings.SITE_URL + checkin_link_path(token)
