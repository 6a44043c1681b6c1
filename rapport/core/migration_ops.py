"""Migration helpers shared by apps."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def postgresql_only_sql(forward: str, backward: str) -> migrations.RunPython:
    """SQL that only PostgreSQL runs (a trigger, an exclusion constraint); SQLite skips it.

    Executed without parameters, so a literal % in the SQL is not taken for a placeholder.
    """

    def run(sql: str) -> Any:
        def operation(apps: Any, schema_editor: Any) -> None:
            if schema_editor.connection.vendor == "postgresql":
                schema_editor.execute(sql, params=None)

        return operation

    return migrations.RunPython(run(forward), run(backward))
