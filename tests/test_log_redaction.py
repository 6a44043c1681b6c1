"""Link credentials never reach the log: every route whose path carries a token or key is redacted."""

from __future__ import annotations

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from rapport.core.log_redaction import REDACTED, SECRET_ARGUMENTS, SecretPathFilter, redact_paths
from tests.test_authorization_matrix import PATTERNS

SECRET = "S3CRETlinkValue0"
SECRET_ROUTES = [p for p in PATTERNS if p.args & SECRET_ARGUMENTS]


def _path(pattern) -> str:
    # allauth's reset link puts a base-36 user id before the key; every other argument is the credential.
    return reverse(pattern.name, kwargs={arg: ("1a" if arg == "uidb36" else SECRET) for arg in pattern.args})


def test_the_urlconf_has_the_link_routes_we_know_of():
    names = {p.name for p in SECRET_ROUTES}
    assert {"portal:welcome", "portal:my_data_download", "site:booking_manage", "workspace:calendar_feed_ics"} <= names
    assert all(p.name for p in SECRET_ROUTES), "an unnamed route carries a credential"


@pytest.mark.parametrize("pattern", SECRET_ROUTES, ids=[p.name for p in SECRET_ROUTES])
def test_every_link_route_is_redacted_as_django_logs_it(pattern):
    path = _path(pattern)
    assert SECRET in path
    # django.request ("Not Found: <path>") and runserver's django.server ('"GET <path> HTTP/1.1" 404 12').
    for msg, args in (("%s: %s", ("Not Found", path)), ('"%s" %s %s', (f"GET {path}?next=/x HTTP/1.1", 404, 12))):
        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, msg, args, None)
        assert SecretPathFilter().filter(record) is True
        message = record.getMessage()
        assert SECRET not in message
        assert REDACTED in message


def test_other_paths_and_messages_pass_unchanged():
    for text in ("/portal/my-data/", "Not Found: /workspace/cases/00000000-0000-4000-8000-000000000000/", "a plain message"):
        assert redact_paths(text) == text
    record = logging.LogRecord("rapport", logging.INFO, __file__, 1, "%d items", (3,), None)
    SecretPathFilter().filter(record)
    assert (record.msg, record.args) == ("%d items", (3,))


def test_the_console_handler_carries_the_filter():
    handlers = logging.getLogger().handlers
    assert any(isinstance(f, SecretPathFilter) for handler in handlers for f in handler.filters)


@pytest.mark.parametrize(
    "refusal",
    [
        ImportError("cannot import name 'series_chart' from partially initialized module 'rapport.reports.charts'"),
        ImproperlyConfigured("The included URLconf 'config.urls' does not appear to have any patterns in it."),
    ],
)
def test_a_record_logged_while_the_urlconf_is_half_imported_is_kept_and_the_pattern_is_built_later(monkeypatch, refusal):
    from rapport.core import log_redaction

    def half_imported() -> None:
        raise refusal

    monkeypatch.setattr(log_redaction, "_secret_path", half_imported)
    record = logging.LogRecord("matplotlib.font_manager", logging.INFO, __file__, 1, "building the font cache", (), None)
    assert SecretPathFilter().filter(record) is True
    assert record.getMessage() == "building the font cache"
    monkeypatch.undo()
    assert REDACTED in redact_paths(reverse("checkin_link", kwargs={"token": "abc"}))
