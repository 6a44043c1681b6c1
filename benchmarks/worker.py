"""One database series, run in a child process whose environment names a throwaway database."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.timing import Result, progress


@dataclass
class World:
    """The rows every benchmark hangs its data on: one practice, one therapist, one client."""

    practice: Any
    user: Any
    therapist: Any
    client: Any


def _build_world() -> World:
    from rapport.accounts.models import Role
    from rapport.clients.services import client_create
    from rapport.practice.models import Therapist
    from rapport.practice.services import practice_create, staff_user_create

    practice = practice_create(actor=None, name="Bench Practice", slug="bench", time_zone="UTC")
    user = staff_user_create(
        actor=None, practice=practice, email="therapist@bench.example", full_name="Bench Therapist", role=Role.THERAPIST, password=None
    )
    client = client_create(actor=None, practice=practice, full_name="Bench Client", email="client@bench.example")
    return World(practice=practice, user=user, therapist=Therapist.objects.get(user=user), client=client)


def _refuse_real_database(engine: str) -> None:
    """The series writes hundreds of thousands of rows: make sure it is the throwaway database."""
    from django.db import connection

    name = str(connection.settings_dict["NAME"])
    if engine == "sqlite":
        var_dir = os.environ.get("RAPPORT_VAR_DIR", "")
        ok = connection.vendor == "sqlite" and bool(var_dir) and Path(name).resolve().parent == Path(var_dir).resolve()
    else:
        ok = connection.vendor == "postgresql" and name.startswith("rapport_bench")
    if not ok:
        raise SystemExit(f"refusing to benchmark {connection.vendor} database {name!r}: run `python -m benchmarks`, not --series")


def _engine_facts() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(cursor.fetchone()[0], "?")
            options = connection.settings_dict.get("OPTIONS", {})
            return [
                f"database   SQLite {connection.Database.sqlite_version}, journal_mode={journal}, synchronous={synchronous}, "
                f"transaction_mode={options.get('transaction_mode', 'DEFERRED')}, file in a temp dir"
            ]
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        sync_commit = cursor.fetchone()[0]
        cursor.execute("SHOW fsync")
        fsync = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
        host = connection.settings_dict.get("HOST") or "local socket"
        return [
            f"database   PostgreSQL {version} at {host}, synchronous_commit={sync_commit}, fsync={fsync}, "
            f"shared_buffers={buffers}, database {connection.settings_dict['NAME']} (dropped afterwards)"
        ]


def run_series(*, engine: str, quick: bool, only: list[str], results_path: Path) -> int:
    started = time.perf_counter()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    _refuse_real_database(engine)
    settings.DEBUG = False  # no query log, whatever the environment said
    progress(f"{engine}: migrating a fresh database")
    call_command("migrate", verbosity=0, interactive=False)
    world = _build_world()

    from benchmarks import bench_audit, bench_charts, bench_crypto, bench_scoring, bench_slots
    from benchmarks.bench_booking import booking_race
    from benchmarks.bench_briefing import briefing_render
    from benchmarks.bench_checkin_submission import checkin_submission
    from benchmarks.bench_detectors import detector_evaluation
    from benchmarks.bench_plan_read import plan_read

    registry = {
        "audit_verify": bench_audit.audit_verify,
        "audit_append": bench_audit.audit_append,
        "decrypt": bench_crypto.decrypt,
        "key_rotation": bench_crypto.key_rotation,
        "slot_core": bench_slots.slot_core,
        "scoring_throughput": bench_scoring.scoring_throughput,
        "booking_race": booking_race,
        "chart_render": bench_charts.chart_render,
        "checkin_submission": checkin_submission,
        "detector_evaluation": detector_evaluation,
        "plan_read": plan_read,
        "briefing_render": briefing_render,
    }
    results: list[Result] = []
    errors: list[str] = []
    for name in only:
        progress(f"{engine}: {name}")
        try:
            results.append(registry[name](world, quick=quick))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            errors.append(f"{name} crashed: {type(exc).__name__}: {exc}")
    payload = {
        "engine": engine,
        "facts": _engine_facts(),
        "results": [r.as_dict() for r in results],
        "errors": errors,
        "seconds": time.perf_counter() - started,
    }
    results_path.write_text(json.dumps(payload, indent=2))
    return 1 if errors or not all(r.ok for r in results) else 0
