"""The slot core: examples worked by hand, and properties checked by hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.scheduling.slots import Availability, DateOverride, Interval, ServiceRules, WeeklyHours, WorkingRange, free_slots

TORONTO = ZoneInfo("America/Toronto")
LONDON = ZoneInfo("Europe/London")
HOUR = timedelta(hours=1)

WEEKDAYS_9_TO_17 = tuple(WeeklyHours(weekday, (WorkingRange(time(9), time(17)),)) for weekday in range(5))
SESSION = ServiceRules(key="individual", duration=timedelta(minutes=50), step=timedelta(minutes=30), buffer_after=timedelta(minutes=10))


def _local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


def _walls(slots: list[datetime], zone: ZoneInfo) -> list[str]:
    return [s.astimezone(zone).strftime("%a %H:%M") for s in slots]


def test_a_free_day_offers_every_step_that_fits_before_closing():
    monday = date(2026, 11, 30)
    slots = free_slots(
        availability=Availability("America/Toronto", WEEKDAYS_9_TO_17),
        service=SESSION,
        busy=[],
        window_start=_local(TORONTO, 2026, 11, 30, 0, 0),
        window_end=_local(TORONTO, 2026, 12, 1, 0, 0),
        now=_local(TORONTO, 2026, 11, 1, 0, 0),
    )
    assert all(s.tzinfo is UTC for s in slots)
    # 9:00 ... 16:00: a 50-minute session starting at 16:30 would end at 17:20, after closing.
    assert _walls(slots, TORONTO) == [f"Mon {h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)][:-1]
    assert slots[0].astimezone(TORONTO).date() == monday


def test_a_booked_session_and_both_buffers_block_the_times_around_it():
    taken = Interval(_local(TORONTO, 2026, 11, 30, 11, 0), _local(TORONTO, 2026, 11, 30, 12, 0))  # incl. its buffer
    service = ServiceRules(
        key="individual",
        duration=timedelta(minutes=50),
        step=timedelta(minutes=30),
        buffer_before=timedelta(minutes=10),
        buffer_after=timedelta(minutes=10),
    )
    slots = free_slots(
        availability=Availability("America/Toronto", WEEKDAYS_9_TO_17),
        service=service,
        busy=[taken],
        window_start=_local(TORONTO, 2026, 11, 30, 9, 0),
        window_end=_local(TORONTO, 2026, 11, 30, 13, 0),
        now=_local(TORONTO, 2026, 11, 1, 0, 0),
    )
    # 10:00 would end 10:50 + 10 min buffer = 11:00: allowed (half-open). 10:30 would run into 11:00.
    # 12:00 starts with a 10-minute buffer from 11:50, which overlaps the taken hour: refused.
    assert _walls(slots, TORONTO) == ["Mon 09:00", "Mon 09:30", "Mon 10:00", "Mon 12:30"]


def test_notice_and_horizon_cut_the_window():
    service = ServiceRules(key="individual", duration=HOUR, step=HOUR, minimum_notice=timedelta(hours=24), horizon=timedelta(days=2))
    now = _local(TORONTO, 2026, 11, 30, 10, 0)
    slots = free_slots(
        availability=Availability("America/Toronto", WEEKDAYS_9_TO_17),
        service=service,
        busy=[],
        window_start=now,
        window_end=now + timedelta(days=10),
        now=now,
    )
    assert min(slots) == _local(TORONTO, 2026, 12, 1, 10, 0)
    assert max(slots) == _local(TORONTO, 2026, 12, 2, 9, 0)  # the horizon itself is not offered


def test_overrides_take_a_day_off_and_add_consultation_only_hours():
    friday = date(2026, 12, 4)
    availability = Availability(
        "America/Toronto",
        WEEKDAYS_9_TO_17,
        overrides=(
            DateOverride(date(2026, 12, 3)),  # Thursday off
            DateOverride(friday, (WorkingRange(time(18), time(19), frozenset({"consultation"})),), replace=False),
        ),
    )
    consultation = ServiceRules(key="consultation", duration=timedelta(minutes=15), step=timedelta(minutes=15))
    common = {
        "availability": availability,
        "busy": [],
        "window_start": _local(TORONTO, 2026, 12, 3, 0, 0),
        "window_end": _local(TORONTO, 2026, 12, 5, 0, 0),
        "now": _local(TORONTO, 2026, 11, 1, 0, 0),
    }
    sessions = free_slots(service=SESSION, **common)
    assert {s.astimezone(TORONTO).date() for s in sessions} == {friday}
    assert max(sessions).astimezone(TORONTO).hour == 16  # the evening hour is not for sessions
    consultations = free_slots(service=consultation, **common)
    assert _walls(consultations, TORONTO)[-4:] == ["Fri 18:00", "Fri 18:15", "Fri 18:30", "Fri 18:45"]


def test_a_full_day_offers_nothing():
    availability = Availability("America/Toronto", WEEKDAYS_9_TO_17, max_sessions_per_day=5)
    slots = free_slots(
        availability=availability,
        service=SESSION,
        busy=[],
        window_start=_local(TORONTO, 2026, 11, 30, 0, 0),
        window_end=_local(TORONTO, 2026, 12, 2, 0, 0),
        now=_local(TORONTO, 2026, 11, 1, 0, 0),
        sessions_per_day={date(2026, 11, 30): 5},
    )
    assert {s.astimezone(TORONTO).date() for s in slots} == {date(2026, 12, 1)}


@pytest.mark.parametrize(
    ("zone", "day", "skipped", "repeated"),
    [
        ("America/Toronto", date(2026, 3, 8), ("02:00", "02:30"), None),  # clocks jump 02:00 -> 03:00
        ("America/Toronto", date(2026, 11, 1), (), "01:30"),  # clocks fall back 02:00 -> 01:00
        ("Europe/London", date(2026, 3, 29), ("01:00", "01:30"), None),  # 01:00 -> 02:00
        ("Europe/London", date(2026, 10, 25), (), "01:30"),  # 02:00 -> 01:00
    ],
)
def test_daylight_saving_days_give_real_local_times_once_each(zone, day, skipped, repeated):
    tz = ZoneInfo(zone)
    night_shift = Availability(zone, (WeeklyHours(day.weekday(), (WorkingRange(time(0), time(6)),)),))
    service = ServiceRules(key="consultation", duration=timedelta(minutes=15), step=timedelta(minutes=30))
    slots = free_slots(
        availability=night_shift,
        service=service,
        busy=[],
        window_start=datetime.combine(day, time(0), tzinfo=tz),
        window_end=datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz),
        now=datetime.combine(day - timedelta(days=30), time(0), tzinfo=tz),
    )
    walls = [s.astimezone(tz).strftime("%H:%M") for s in slots]
    assert len(walls) == len(set(walls)), "a wall time offered twice"
    assert len(slots) == len(set(slots))
    if skipped:
        assert not set(skipped) & set(walls)
        assert len(walls) == 10  # 12 half hours from 00:00 to 05:30; the hour the clock skips has two
    if repeated:
        assert walls.count(repeated) == 1
        assert len(walls) == 12
    for slot in slots:
        back = slot.astimezone(tz)
        assert back.replace(tzinfo=None) == datetime.combine(day, time.fromisoformat(back.strftime("%H:%M")))


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        free_slots(
            availability=Availability("UTC", WEEKDAYS_9_TO_17),
            service=SESSION,
            busy=[],
            window_start=datetime(2026, 11, 30),
            window_end=datetime(2026, 12, 1, tzinfo=UTC),
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )


# --- Properties -------------------------------------------------------------------------------------------

ZONES = st.sampled_from(["America/Toronto", "Europe/London", "UTC", "Asia/Kolkata"])
# Half of the weeks drawn start just before a daylight-saving change in Toronto or London.
DST_WEEKS = [date(2026, 3, 5), date(2026, 3, 26), date(2026, 10, 22), date(2026, 10, 29), date(2027, 3, 11), date(2027, 10, 28)]
DAYS = st.one_of(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 20)), st.sampled_from(DST_WEEKS))


@st.composite
def working_ranges(draw: st.DrawFn) -> WorkingRange:
    start = draw(st.integers(min_value=0, max_value=22 * 4)) * 15
    length = draw(st.integers(min_value=1, max_value=(24 * 60 - 1 - start) // 15)) * 15
    end = min(start + length, 24 * 60 - 1)
    return WorkingRange(time(start // 60, start % 60), time(end // 60, end % 60))


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    zone = draw(ZONES)
    tz = ZoneInfo(zone)
    first_day = draw(DAYS)
    weekly = tuple(WeeklyHours(weekday, tuple(draw(st.lists(working_ranges(), max_size=2)))) for weekday in range(7))
    service = ServiceRules(
        key="s",
        duration=timedelta(minutes=draw(st.sampled_from([15, 30, 50, 75]))),
        step=timedelta(minutes=draw(st.sampled_from([15, 30, 60]))),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 5, 10]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 10, 15]))),
        minimum_notice=timedelta(hours=draw(st.integers(min_value=0, max_value=48))),
        horizon=timedelta(days=draw(st.integers(min_value=1, max_value=10))),
    )
    start = datetime.combine(first_day, time(0), tzinfo=tz)
    busy = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        offset = timedelta(minutes=draw(st.integers(min_value=0, max_value=7 * 24 * 60)))
        length = timedelta(minutes=draw(st.integers(min_value=5, max_value=240)))
        busy.append(Interval(start + offset, start + offset + length))
    now = start + timedelta(minutes=draw(st.integers(min_value=-3 * 24 * 60, max_value=3 * 24 * 60)))
    return {
        "availability": Availability(zone, weekly),
        "service": service,
        "busy": busy,
        "window_start": start,
        "window_end": start + timedelta(days=7),
        "now": now,
    }


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_no_slot_with_its_buffers_touches_a_busy_interval(case):
    service = case["service"]
    for slot in free_slots(**case):
        blocked_from, blocked_to = slot - service.buffer_before, slot + service.duration + service.buffer_after
        for taken in case["busy"]:
            assert not (taken.start < blocked_to and blocked_from < taken.end)


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_every_slot_lies_inside_working_hours(case):
    availability, service = case["availability"], case["service"]
    tz = ZoneInfo(availability.time_zone)
    for slot in free_slots(**case):
        local_start = slot.astimezone(tz)
        local_end = (slot + service.duration).astimezone(tz)
        ranges = [r for hours in availability.weekly if hours.weekday == local_start.weekday() for r in hours.ranges]
        assert any(
            r.start <= local_start.time() and local_end.date() == local_start.date() and local_end.time() <= r.end for r in ranges
        ), f"{local_start} to {local_end} is outside {ranges}"


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_notice_horizon_and_window_hold_and_slots_are_unique_and_ordered(case):
    service = case["service"]
    slots = free_slots(**case)
    assert slots == sorted(set(slots))
    for slot in slots:
        assert slot.tzinfo is UTC
        assert slot >= case["now"] + service.minimum_notice
        assert slot <= case["now"] + service.horizon
        assert case["window_start"] <= slot < case["window_end"]


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_property_every_slot_is_an_existing_local_time(case):
    tz = ZoneInfo(case["availability"].time_zone)
    for slot in free_slots(**case):
        local = slot.astimezone(tz)
        # Round-tripping the wall time through the zone gives back the same instant (fold 0).
        assert datetime.combine(local.date(), local.time(), tzinfo=tz).astimezone(UTC) == slot
