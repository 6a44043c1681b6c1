"""Free start times for a service: pure computation, no Django (ARCHITECTURE.md, "Pure cores").

Inputs are plain values: a therapist's weekly hours and date overrides in their own IANA zone, the
service's rules, the intervals already taken (aware datetimes), and the window asked for. The
answer is a sorted list of aware UTC datetimes, each a start at which the whole session fits
inside working hours and the session with its buffers overlaps nothing already taken.

Candidate starts step through each working range in the therapist's *wall-clock* time, so slots
sit on the times a person expects (9:00, 9:30...). On daylight-saving days a wall time that does
not exist (the spring gap) is skipped, and a wall time that happens twice (the autumn overlap) is
offered once, at its first occurrence. Durations, buffers, notice and horizon are real elapsed
time, so a session across a transition still lasts exactly its duration.

    free_slots(availability=..., service=..., busy=[...], window_start=..., window_end=..., now=...)
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Interval:
    """A span of real time, half-open [start, end), with aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("intervals need aware datetimes")
        if self.end <= self.start:
            raise ValueError("an interval must end after it starts")


@dataclass(frozen=True)
class WorkingRange:
    """Wall-clock hours on one day, e.g. 09:00 to 12:00; ``services`` limits which services it offers."""

    start: time
    end: time
    services: frozenset[str] | None = None  # None: every service

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("working hours must end after they start on the same day")

    def offers(self, service_key: str) -> bool:
        return self.services is None or service_key in self.services


@dataclass(frozen=True)
class WeeklyHours:
    weekday: int  # 0 = Monday ... 6 = Sunday, as date.weekday()
    ranges: tuple[WorkingRange, ...]


@dataclass(frozen=True)
class DateOverride:
    """One date's exception: ``replace`` swaps the weekly hours for ``ranges`` (none: a day off);
    otherwise ``ranges`` are extra hours on top of the weekly ones."""

    day: date
    ranges: tuple[WorkingRange, ...] = ()
    replace: bool = True


@dataclass(frozen=True)
class Availability:
    time_zone: str
    weekly: tuple[WeeklyHours, ...]
    overrides: tuple[DateOverride, ...] = ()
    max_sessions_per_day: int | None = None


@dataclass(frozen=True)
class ServiceRules:
    key: str
    duration: timedelta
    step: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    minimum_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.step <= timedelta(0):
            raise ValueError("duration and step must be positive")
        if self.buffer_before < timedelta(0) or self.buffer_after < timedelta(0):
            raise ValueError("buffers cannot be negative")


@dataclass(frozen=True)
class _Busy:
    starts: list[datetime] = field(default_factory=list)
    ends_so_far: list[datetime] = field(default_factory=list)  # running maximum of ends, by start


def _index_busy(busy: Iterable[Interval]) -> _Busy:
    ordered = sorted(busy, key=lambda interval: interval.start)
    starts = [interval.start.astimezone(UTC) for interval in ordered]
    running: list[datetime] = []
    latest: datetime | None = None
    for interval in ordered:
        end = interval.end.astimezone(UTC)
        latest = end if latest is None or end > latest else latest
        running.append(latest)
    return _Busy(starts, running)


def _overlaps(index: _Busy, start: datetime, end: datetime) -> bool:
    # Intervals starting before `end`; any of them ending after `start` overlaps. The running
    # maximum of ends over those intervals answers that in O(log n).
    count = bisect.bisect_left(index.starts, end)
    return count > 0 and index.ends_so_far[count - 1] > start


def _ranges_for(availability: Availability, day: date) -> list[WorkingRange]:
    ranges = [r for hours in availability.weekly if hours.weekday == day.weekday() for r in hours.ranges]
    for override in availability.overrides:
        if override.day == day:
            ranges = list(override.ranges) if override.replace else ranges + list(override.ranges)
    return ranges


def _wall_to_utc(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """The instant a wall-clock time names, or None if the clock skips it that day."""
    local = datetime.combine(day, wall, tzinfo=zone)  # fold=0: the first of two, when ambiguous
    instant = local.astimezone(UTC)
    back = instant.astimezone(zone)
    if (back.date(), back.time()) != (day, wall):
        return None
    return instant


def _range_end_utc(day: date, wall: time, zone: ZoneInfo) -> datetime:
    # A range may end at a wall time the clock skips or repeats; take the earlier instant it can
    # mean, so no session ever runs past the end of working hours.
    local = datetime.combine(day, wall, tzinfo=zone)
    return min(local.astimezone(UTC), local.replace(fold=1).astimezone(UTC))


def free_slots(
    *,
    availability: Availability,
    service: ServiceRules,
    busy: Sequence[Interval],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    sessions_per_day: Mapping[date, int] | None = None,
) -> list[datetime]:
    """Every free start in [window_start, window_end), as aware UTC datetimes in order.

    ``busy`` should already include the buffers of what is booked; the candidate's own buffers are
    added here. ``sessions_per_day`` counts sessions already booked per local date, for the
    therapist's daily maximum.
    """
    for moment in (window_start, window_end, now):
        if moment.tzinfo is None:
            raise ValueError("window and now must be aware datetimes")
    zone = ZoneInfo(availability.time_zone)
    index = _index_busy(busy)
    earliest = max(window_start, now + service.minimum_notice).astimezone(UTC)
    latest = min(window_end, now + service.horizon).astimezone(UTC)
    if latest <= earliest:
        return []
    booked = sessions_per_day or {}
    found: list[datetime] = []
    day = (earliest.astimezone(zone) - timedelta(days=1)).date()
    last_day = (latest.astimezone(zone) + timedelta(days=1)).date()
    while day <= last_day:
        limit = availability.max_sessions_per_day
        if limit is None or booked.get(day, 0) < limit:
            for working in _ranges_for(availability, day):
                if working.offers(service.key):
                    found.extend(_starts_in_range(day, working, zone, service, index, earliest, latest))
        day += timedelta(days=1)
    return sorted(set(found))


def _starts_in_range(
    day: date, working: WorkingRange, zone: ZoneInfo, service: ServiceRules, index: _Busy, earliest: datetime, latest: datetime
) -> Iterable[datetime]:
    range_end = _range_end_utc(day, working.end, zone)
    wall = datetime.combine(day, working.start)
    stop = datetime.combine(day, working.end)
    # Most days have one UTC offset from midnight to midnight: then a wall time is that offset
    # away from UTC, with no zone lookup per candidate. Only transition days take the slow path.
    offset = datetime.combine(day, time(0), tzinfo=zone).utcoffset()
    steady = offset == datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).utcoffset()
    while wall < stop:
        if steady and offset is not None:
            start: datetime | None = (wall - offset).replace(tzinfo=UTC)
        else:
            start = _wall_to_utc(day, wall.time(), zone)
        if start is not None and earliest <= start < latest:
            end = start + service.duration
            if end <= range_end and not _overlaps(index, start - service.buffer_before, end + service.buffer_after):
                yield start
        wall += service.step
