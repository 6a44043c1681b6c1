from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.personas import World, build_world

# The SMTP capture (a real aiosmtpd server on loopback) as a fixture for any test.
pytest_plugins = ["tests.smtp_capture"]


def pytest_configure(config: pytest.Config) -> None:
    if settings.RAPPORT_ENV != "test":
        raise pytest.UsageError("Run the tests with RAPPORT_ENV=test (make test does this).")


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
