"""``python -m benchmarks``: machine facts, one child process per database series, a short table.

The parent never imports the project's settings. Each series runs in a child process
(``--series``) whose environment points at a throwaway database *before* ``django.setup()``:
a SQLite file in a fresh temp dir, and, when ``BENCH_DATABASE_URL`` is given, a PostgreSQL
database created for the run and dropped afterwards with the same credentials.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks import BENCHMARKS

ROOT = Path(__file__).resolve().parent.parent
PG_SCHEMES = {"postgres", "postgresql", "pgsql"}


def _parse_only(parser: argparse.ArgumentParser, values: list[str] | None) -> list[str]:
    if not values:
        return list(BENCHMARKS)
    wanted = [name.strip() for value in values for name in value.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in BENCHMARKS]
    if unknown:
        parser.error(f"--only: unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return [name for name in BENCHMARKS if name in wanted]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Rapport benchmarks: medians and same-run ratios (see benchmarks/README.md).",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run that proves the benchmarks still work (< 30 s)")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help=f"run only this benchmark (repeatable or comma-separated): {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--series", choices=("sqlite", "postgresql"), help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    only = _parse_only(parser, args.only)
    if args.series:
        from benchmarks.worker import run_series

        return run_series(engine=args.series, quick=args.quick, only=only, results_path=Path(args.results))
    return _orchestrate(quick=args.quick, only=only)


# --- machine facts ---------------------------------------------------------------------------------


def _git(*args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise OSError("git is not installed")
    return subprocess.run([git, *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()  # noqa: S603


def _git_commit() -> str:
    try:
        commit, dirty = _git("rev-parse", "--short", "HEAD"), _git("status", "--porcelain")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} (with uncommitted changes)" if dirty else commit


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


def _versions() -> dict[str, str]:
    import cryptography
    import django

    return {"django": django.__version__, "cryptography": cryptography.__version__}


def _print_facts(quick: bool, only: list[str]) -> None:
    versions = _versions()
    cpus = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cpus
    print(f"Rapport benchmarks ({'quick smoke run' if quick else 'full run'}): {', '.join(only)}")
    print(f"  started    {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"  machine    {cpus} CPUs ({usable} usable), {_cpu_model()}; {platform.platform()}")
    print(f"  load avg   {_load()} (other work on the machine skews every figure)")
    print(
        f"  software   Python {platform.python_version()}, Django {versions['django']}, "
        f"SQLite {sqlite3.sqlite_version}, cryptography {versions['cryptography']}"
    )
    print(f"  commit     {_git_commit()}")
    print(f"  command    RAPPORT_ENV=test {Path(sys.executable).name} -m benchmarks {' '.join(sys.argv[1:])}".rstrip())
    print()


# --- series --------------------------------------------------------------------------------------------


def _child_env(var_dir: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            # Test mode: fixed fictional keys, DEBUG off (no query logging), no production checks.
            "RAPPORT_ENV": "test",
            "DEBUG": "false",
            "RAPPORT_VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
            "PYTHONHASHSEED": "0",
        }
    )
    return env


def _run_child(engine: str, env: dict[str, str], var_dir: Path, quick: bool, only: list[str]) -> dict[str, Any] | None:
    results_path = var_dir / "results.json"
    command = [sys.executable, "-m", "benchmarks", "--series", engine, "--results", str(results_path), "--only", ",".join(only)]
    if quick:
        command.append("--quick")
    completed = subprocess.run(command, cwd=ROOT, env=env, check=False)  # noqa: S603
    if not results_path.exists():
        print(f"  the {engine} series stopped before writing results (exit {completed.returncode}); see the error above", file=sys.stderr)
        return None
    data: dict[str, Any] = json.loads(results_path.read_text())
    data["exit_code"] = completed.returncode
    return data


def _sqlite_series(quick: bool, only: list[str]) -> dict[str, Any] | None:
    var_dir = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    try:
        env = _child_env(var_dir, f"sqlite:///{var_dir / 'bench.sqlite3'}")
        return _run_child("sqlite", env, var_dir, quick, only)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def _pg_admin(url: str, statement: Any) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def _postgres_series(base_url: str, quick: bool, only: list[str]) -> dict[str, Any] | None:
    from psycopg import sql

    parts = urlsplit(base_url)
    if parts.scheme not in PG_SCHEMES or not parts.path.strip("/"):
        raise SystemExit("BENCH_DATABASE_URL must look like postgres://user:password@host:5432/database")
    # A database of our own (same credentials, needs CREATEDB), named per process so two runs never collide.
    name = f"rapport_bench_{os.getpid()}"
    admin_url = urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))
    bench_url = urlunsplit(("postgres", parts.netloc, f"/{name}", parts.query, ""))
    var_dir = Path(tempfile.mkdtemp(prefix="rapport-bench-pg-"))
    _pg_admin(admin_url, sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    _pg_admin(admin_url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        return _run_child("postgresql", _child_env(var_dir, bench_url), var_dir, quick, only)
    finally:
        try:
            _pg_admin(admin_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        except Exception as exc:  # a failed drop must not hide the results
            print(f"  could not drop the benchmark database {name}: {exc}", file=sys.stderr)
        shutil.rmtree(var_dir, ignore_errors=True)


# --- report ----------------------------------------------------------------------------------------------


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _print_series(title: str, data: dict[str, Any]) -> bool:
    print(f"== {title} ==")
    for fact in data.get("facts", []):
        print(f"  {fact}")
    results = data.get("results", [])
    ok = data.get("exit_code", 1) == 0 and all(r["ok"] for r in results)
    if results:
        rows = [["benchmark", "size", "median", "baseline (same run)", "ratio", "runs"]]
        rows += [[r["name"], f"{r['size']:,}", r["median"], r["baseline"], r["ratio"], r["runs"]] for r in results]
        print()
        for line in _table(rows):
            print(line)
        print()
        for r in results:
            for detail in r["details"]:
                print(f"  {r['name']}: {detail}")
        targets = [t for r in results for t in r["targets"]]
        if targets:
            print()
            for t in targets:
                print(f"  target {t['number']:>2} {'met    ' if t['met'] else 'NOT MET'}  {t['text']}: {t['measured']}")
    for error in data.get("errors", []):
        print(f"  ERROR {error}")
    print(f"  series took {data.get('seconds', 0):.1f} s; load avg at the end {_load()}")
    print()
    return ok


def _orchestrate(*, quick: bool, only: list[str]) -> int:
    started = time.perf_counter()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # keep our lines in order with the children's
    _print_facts(quick, only)
    series: list[tuple[str, dict[str, Any] | None]] = [("SQLite", _sqlite_series(quick, only))]
    pg_url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if pg_url:
        series.append(("PostgreSQL", _postgres_series(pg_url, quick, only)))
    else:
        print("(PostgreSQL skipped: set BENCH_DATABASE_URL=postgres://user:password@host:5432/db to add that series)\n", file=sys.stderr)
    print()
    all_ok = True
    for title, data in series:
        if data is None:
            print(f"== {title} ==\n  no results (the series crashed)\n")
            all_ok = False
            continue
        all_ok = _print_series(title, data) and all_ok
    print(f"total {time.perf_counter() - started:.1f} s. Timings never fail the run; exit 1 means a crash or a failed correctness check.")
    return 0 if all_ok else 1
