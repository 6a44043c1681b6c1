"""The one-time link to a check-in, as a path: one place, so the pages and the emails agree on it.

Reversed by name: the page lives in the portal, above this app, and is not imported from here.
"""

from __future__ import annotations

from django.urls import reverse


def checkin_link_path(token: str) -> str:
    """The path of the one-time link for ``token``: ``/checkin/<token>/`` (make it absolute with the site's origin)."""
    return reverse("checkin_link", kwargs={"token": token})
