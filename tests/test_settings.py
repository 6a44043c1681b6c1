"""Bad configuration stops start-up with a message that names the problem."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEYS = "k1:" + base64.b64encode(b"K" * 32).decode()
GOOD_SECRET = "s" * 60


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RAPPORT_", "DATABASE_URL", "SECRET_KEY", "TIME_ZONE", "REDIS_URL", "EMAIL_"))
    }
    base.update({"DJANGO_SETTINGS_MODULE": "config.settings", "RAPPORT_VAR_DIR": str(ROOT / "var")})
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60, check=False
    )


PRODUCTION = {
    "RAPPORT_ENV": "production",
    "SECRET_KEY": GOOD_SECRET,
    "RAPPORT_ENCRYPTION_KEYS": GOOD_KEYS,
    "EMAIL_HOST": "smtp.example",
    "SITE_URL": "https://p.example",
}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**PRODUCTION, "SECRET_KEY": ""}, "SECRET_KEY (or SECRET_KEY_FILE) must be set"),
        ({**PRODUCTION, "RAPPORT_ENCRYPTION_KEYS": ""}, "RAPPORT_ENCRYPTION_KEYS (or RAPPORT_ENCRYPTION_KEYS_FILE) must be set"),
        ({**PRODUCTION, "RAPPORT_ENCRYPTION_KEYS": "k1:tooshort"}, "RAPPORT_ENCRYPTION_KEYS is malformed"),
        (
            {**PRODUCTION, "RAPPORT_ENCRYPTION_KEYS_FILE": "/nonexistent/keys"},
            "Set either RAPPORT_ENCRYPTION_KEYS or RAPPORT_ENCRYPTION_KEYS_FILE, not both",
        ),
        ({**PRODUCTION, "DEBUG": "true"}, "DEBUG must be off"),
        ({**PRODUCTION, "EMAIL_HOST": ""}, "EMAIL_HOST must be set"),
        ({"RAPPORT_ENV": "development", "DATABASE_URL": "mysql://u:p@h/db"}, "DATABASE_URL must start with sqlite:/// or postgres://"),
        ({"RAPPORT_ENV": "development", "DATABASE_URL": "postgres://"}, "PostgreSQL needs a host and a database name"),
        ({"RAPPORT_ENV": "development", "TIME_ZONE": "Mars/Olympus_Mons"}, "TIME_ZONE names an unknown time zone: 'Mars/Olympus_Mons'"),
        ({"RAPPORT_ENV": "development", "REDIS_URL": "localhost:6379"}, "REDIS_URL must be a URL"),
        ({"RAPPORT_ENV": "staging"}, "RAPPORT_ENV must be development, test or production"),
        ({"RAPPORT_ENV": "development", "RAPPORT_SESSION_IDLE_MINUTES": "half an hour"}, "RAPPORT_SESSION_IDLE_MINUTES must be an integer"),
        (
            {**PRODUCTION, "RAPPORT_ENCRYPTION_KEYS": "dev1:cmFwcG9ydC1kZXYta2V5LWZpY3Rpb25hbC1vbmx5ISE="},
            "contains the published development key",
        ),
        ({**PRODUCTION, "SITE_URL": ""}, "SITE_URL must be set to the https:// address"),
        ({"RAPPORT_ENV": "development", "DATABASE_URL": "sqlite://"}, "DATABASE_URL for SQLite needs a file path"),
        ({"RAPPORT_ENV": "development", "LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of"),
    ],
)
def test_bad_configuration_stops_start_up_with_a_clear_message(env, message):
    result = _start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_secrets_can_come_from_files(tmp_path):
    (tmp_path / "secret").write_text(GOOD_SECRET)
    (tmp_path / "keys").write_text(GOOD_KEYS + "\n")
    env = {
        **PRODUCTION,
        "SECRET_KEY": "",
        "RAPPORT_ENCRYPTION_KEYS": "",
        "SECRET_KEY_FILE": str(tmp_path / "secret"),
        "RAPPORT_ENCRYPTION_KEYS_FILE": str(tmp_path / "keys"),
    }
    result = _start(env)
    assert result.returncode == 0, result.stderr


def test_a_complete_production_configuration_starts():
    result = _start(PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_sqlite_is_configured_for_durability_and_queued_writers():
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "sqlite":
        assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
        return
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert settings.DATABASES["default"]["ATOMIC_REQUESTS"] is False


@pytest.mark.django_db
def test_sqlite_pragmas_are_read_back_on_every_connection():
    from django.core.exceptions import ImproperlyConfigured
    from django.db import connection

    from rapport.core.apps import check_sqlite_pragmas

    if connection.vendor != "sqlite":
        assert connection.vendor == "postgresql"
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2
        cursor.execute("PRAGMA foreign_keys")
        assert cursor.fetchone()[0] == 1

    class _Cursor:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, sql):
            self.sql = sql

        def fetchone(self):
            return ("delete",) if "journal_mode" in self.sql else (2,)

    class _Connection:
        vendor = "sqlite"
        settings_dict = {"NAME": "rapport-fake.sqlite3"}

        def cursor(self):
            return _Cursor()

    with pytest.raises(ImproperlyConfigured, match="journal_mode is 'delete', expected 'wal'"):
        check_sqlite_pragmas(sender=None, connection=_Connection())


def test_redis_url_moves_huey_and_the_cache_to_redis():
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings; from django.core.cache import cache\n"
        "from huey.contrib.djhuey import HUEY\n"
        "assert type(HUEY).__name__ == 'RedisHuey', type(HUEY)\n"
        "assert settings.CACHES['default']['BACKEND'].endswith('RedisCache')\n"
        "cache.set('rapport-redis-check', 'yes', 30)\n"
        "assert cache.get('rapport-redis-check') == 'yes'\n"
        "HUEY.storage.conn.ping()\n"
        "print('redis ok')\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RAPPORT_", "DATABASE_URL", "REDIS_URL"))}
    base.update({"DJANGO_SETTINGS_MODULE": "config.settings", "RAPPORT_ENV": "development", "REDIS_URL": "redis://127.0.0.1:6379/15"})
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    assert result.returncode == 0, result.stderr[-2000:]
    assert "redis ok" in result.stdout
