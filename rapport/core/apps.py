from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.signals import connection_created

# What every SQLite connection must report after init_command ran (RELIABILITY.md target 9).
_REQUIRED_SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}


def check_sqlite_pragmas(sender: Any, connection: Any, **kwargs: Any) -> None:
    if (
        connection.vendor != "sqlite"
        or connection.settings_dict["NAME"] in ("", ":memory:")
        or "mode=memory" in str(connection.settings_dict["NAME"])
    ):
        return
    with connection.cursor() as cursor:
        for pragma, expected in _REQUIRED_SQLITE_PRAGMAS.items():
            cursor.execute(f"PRAGMA {pragma}")
            actual = cursor.fetchone()[0]
            if str(actual).lower() != str(expected):
                raise ImproperlyConfigured(
                    f"SQLite PRAGMA {pragma} is {actual!r}, expected {expected!r}: the database file or its "
                    "file system does not support the settings Rapport relies on for durability."
                )


class CoreConfig(AppConfig):
    name = "rapport.core"
    label = "core"

    def ready(self) -> None:
        connection_created.connect(check_sqlite_pragmas, dispatch_uid="rapport.core.check_sqlite_pragmas")
