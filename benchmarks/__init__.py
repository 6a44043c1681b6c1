"""Rapport's benchmarks: medians and same-run ratios for the targets in RELIABILITY.md.

Run ``make bench`` (or ``RAPPORT_ENV=test .venv/bin/python -m benchmarks``); see benchmarks/README.md.
Nothing here asserts on timings: each target gets one "met" or "not met" line. Each database series
runs in a child process of its own against a throwaway database, so SQLite and PostgreSQL figures
are never mixed and no real database is touched.
"""

BENCHMARKS = (
    "audit_verify",
    "audit_append",
    "decrypt",
    "key_rotation",
    "slot_core",
    "scoring_throughput",
    "booking_race",
    "chart_render",
    "checkin_submission",
    "detector_evaluation",
    "plan_read",
    "briefing_render",
)
