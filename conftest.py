from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from hypothesis import settings as hypothesis_settings

from tests.personas import World, build_world

# Property tests check what is computed, never how fast: speed lives in benchmarks/. Hypothesis's
# default 200 ms deadline turned a loaded machine into a failing test (an example that was slow,
# not wrong), so the deadline is off; the examples and their seeds are as before.
hypothesis_settings.register_profile("rapport", deadline=None)
hypothesis_settings.load_profile("rapport")

# The SMTP capture (a real aiosmtpd server on loopback) as a fixture for any test.
pytest_plugins = ["tests.smtp_capture"]


def pytest_configure(config: pytest.Config) -> None:
    if settings.RAPPORT_ENV != "test":
        raise pytest.UsageError("Run the tests with RAPPORT_ENV=test (make test does this).")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests marked ``postgresql`` belong to the PostgreSQL pass of ``make test``: on SQLite they are
    # deselected (reported as such), never collected and skipped.
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        (dropped if item.get_closest_marker("postgresql") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(autouse=True)
def _fresh_briefing_caches() -> None:
    """Each test starts with the briefing's in-process caches empty, as a new worker process does:
    between tests the database is rolled back, and on SQLite row ids come round again."""
    from rapport.workspace.briefing_views import briefing_cache_clear

    briefing_cache_clear()


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def client_as(world: World):  # type: ignore[no-untyped-def]
    """A Django test client signed in as a persona (or anonymous)."""

    def make(persona: str) -> Client:
        browser = Client()
        user = world.user(persona)
        if user is not None:
            browser.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return browser

    return make
