"""The slot core (rapport.scheduling.slots) against a naive minute-by-minute reference.

The reference walks every minute of the window, asks whether a session could start there (on the
step grid of a working range, ending inside it, within notice and horizon) and scans every busy
interval for an overlap. Both must give the same answer; the ratio of their medians is reported.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.timing import Result, Target, median, timed
from rapport.scheduling.slots import Availability, Interval, ServiceRules, WeeklyHours, WorkingRange, free_slots

DAYS = {False: 90, True: 14}
BUSY = {False: 500, True: 80}
RUNS = 5


def _scenario(days: int, busy_count: int) -> dict[str, Any]:
    rng = random.Random(20261126)
    zone = "America/Toronto"
    tz = ZoneInfo(zone)
    weekdays = [WeeklyHours(weekday, (WorkingRange(time(9), time(12)), WorkingRange(time(13), time(18)))) for weekday in range(5)]
    weekly = (*weekdays, WeeklyHours(5, (WorkingRange(time(10), time(14)),)))
    start = datetime(2026, 12, 1, tzinfo=tz)
    busy = []
    for _ in range(busy_count):
        day = start + timedelta(days=rng.randrange(days))
        begin = day.replace(hour=rng.randrange(8, 18), minute=rng.choice([0, 15, 30, 45]))
        busy.append(Interval(begin, begin + timedelta(minutes=rng.choice([30, 60, 75]))))
    service = ServiceRules(
        key="individual",
        duration=timedelta(minutes=50),
        step=timedelta(minutes=15),
        buffer_after=timedelta(minutes=10),
        minimum_notice=timedelta(hours=24),
        horizon=timedelta(days=days),
    )
    return {
        "availability": Availability(zone, weekly),
        "service": service,
        "busy": busy,
        "window_start": start,
        "window_end": start + timedelta(days=days),
        "now": start - timedelta(days=1),
    }


def _naive(case: dict[str, Any]) -> list[datetime]:
    availability, service = case["availability"], case["service"]
    tz = ZoneInfo(availability.time_zone)
    found = []
    minute = case["window_start"].astimezone(UTC)
    while minute < case["window_end"]:
        local = minute.astimezone(tz)
        fits = minute >= case["now"] + service.minimum_notice and minute < case["now"] + service.horizon
        if fits:
            fits = False
            for hours in availability.weekly:
                if hours.weekday != local.weekday():
                    continue
                for working in hours.ranges:
                    opens = datetime.combine(local.date(), working.start, tzinfo=tz)
                    closes = datetime.combine(local.date(), working.end, tzinfo=tz)
                    on_grid = (local.replace(tzinfo=None) - opens.replace(tzinfo=None)) % service.step == timedelta(0)
                    if opens <= local and local + service.duration <= closes and on_grid:
                        fits = True
        if fits:
            blocked_from, blocked_to = minute - service.buffer_before, minute + service.duration + service.buffer_after
            if all(not (taken.start < blocked_to and blocked_from < taken.end) for taken in case["busy"]):
                found.append(minute)
        minute += timedelta(minutes=1)
    return found


def slot_core(world: Any, *, quick: bool) -> Result:
    """Slots for 90 days with 500 busy intervals: the core against the naive reference."""
    case = _scenario(DAYS[quick], BUSY[quick])
    expected = _naive(case)
    got = free_slots(**case)
    same = got == expected
    core = [timed(lambda: free_slots(**case)) for _ in range(RUNS)]
    naive = [timed(lambda: _naive(case)) for _ in range(3 if not quick else 2)]
    ratio = median(naive) / median(core)
    days = DAYS[quick]
    sixty = _scenario(60, BUSY[quick])
    sixty_core = median([timed(lambda: free_slots(**sixty)) for _ in range(RUNS)])
    return Result(
        name="slot_core",
        size=days,
        median=f"{median(core) * 1000:.1f} ms",
        baseline=f"{median(naive) * 1000:.0f} ms naive",
        ratio=f"{ratio:.0f}x",
        runs=f"{RUNS} core, {len(naive)} naive",
        details=[
            f"{days} days, {BUSY[quick]} busy intervals, 15-min step, 50-min session + 10-min buffer, 24 h notice: "
            f"{len(got)} free starts, {median(core) / days * 1e6:.0f} us per day; naive reference {'agrees' if same else 'DISAGREES'}",
        ],
        targets=[
            Target(17, "pure slot core for a 60-day window <= 5 ms", sixty_core <= 0.005, f"{sixty_core * 1000:.1f} ms"),
            Target(17, f"slot core >= 10x faster than the naive reference ({days} days, Booking issue)", ratio >= 10, f"{ratio:.0f}x"),
        ],
        ok=same,
    )
