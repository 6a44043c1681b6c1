"""Loading a therapist's hours and bookings into the pure slot core, and nothing else.

The booking page and the booking service both ask this module, so what is offered and what is
accepted can never disagree (the lesson of Cal.com's shared availability function, RELIABILITY B2).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from rapport.practice.models import Service, Therapist
from rapport.scheduling.models import Appointment, AppointmentStatus, AvailabilityOverride, OverrideKind, TimeBlock, WorkingHours
from rapport.scheduling.slots import Availability, DateOverride, Interval, ServiceRules, WeeklyHours, WorkingRange, free_slots


def service_rules(service: Service) -> ServiceRules:
    return ServiceRules(
        key=str(service.public_id),
        duration=timedelta(minutes=service.duration_minutes),
        step=timedelta(minutes=service.slot_step_minutes),
        buffer_before=timedelta(minutes=service.buffer_before_minutes),
        buffer_after=timedelta(minutes=service.buffer_after_minutes),
        minimum_notice=timedelta(hours=service.minimum_notice_hours),
        horizon=timedelta(days=service.booking_horizon_days),
    )


def _services_key(keys: list[str]) -> frozenset[str] | None:
    return frozenset(keys) if keys else None


def therapist_availability(therapist: Therapist, first_day: date, last_day: date) -> Availability:
    weekly: dict[int, list[WorkingRange]] = {}
    for hours in WorkingHours.objects.filter(therapist=therapist).prefetch_related("services"):
        keys = [str(s.public_id) for s in hours.services.all()]
        weekly.setdefault(hours.weekday, []).append(WorkingRange(hours.start, hours.end, _services_key(keys)))
    overrides: list[DateOverride] = []
    rows = AvailabilityOverride.objects.filter(therapist=therapist, day__gte=first_day, day__lte=last_day).prefetch_related("services")
    replaced: dict[date, list[WorkingRange]] = {}
    for override in rows:
        if override.kind == OverrideKind.DAY_OFF:
            replaced.setdefault(override.day, [])
            continue
        if override.start is None or override.end is None:  # the check constraint rules this out
            raise ValueError(f"override {override.public_id} has no hours")
        working = WorkingRange(override.start, override.end, _services_key([str(s.public_id) for s in override.services.all()]))
        if override.kind == OverrideKind.REPLACE:
            replaced.setdefault(override.day, []).append(working)
        else:
            overrides.append(DateOverride(override.day, (working,), replace=False))
    # A day's replacement comes first, then its extra hours are added on top.
    overrides = [DateOverride(day, tuple(ranges), replace=True) for day, ranges in replaced.items()] + overrides
    return Availability(
        time_zone=therapist.time_zone,
        weekly=tuple(WeeklyHours(weekday, tuple(ranges)) for weekday, ranges in weekly.items()),
        overrides=tuple(overrides),
        max_sessions_per_day=therapist.max_sessions_per_day,
    )


def _taken(therapist: Therapist, start: datetime, end: datetime, ignore: Appointment | None) -> list[Appointment]:
    taken = (
        Appointment.objects.filter(therapist=therapist, blocked_start__lt=end, blocked_end__gt=start)
        .exclude(status=AppointmentStatus.CANCELLED)
        .only("blocked_start", "blocked_end", "start")
        .order_by()
    )
    if ignore is not None:
        taken = taken.exclude(pk=ignore.pk)
    return list(taken)


def free_starts(
    *,
    therapist: Therapist,
    service: Service,
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    ignore: Appointment | None = None,
) -> list[datetime]:
    """The starts the therapist can offer for the service in the window, as aware UTC datetimes.

    ``ignore``: an appointment being moved, whose own time counts as free (moving a session by a
    quarter of an hour overlaps where it is now; the reschedule service releases it the same way).
    """
    zone = ZoneInfo(therapist.time_zone)
    first_day = (window_start.astimezone(zone) - timedelta(days=1)).date()
    last_day = (window_end.astimezone(zone) + timedelta(days=1)).date()
    day_start = datetime.combine(first_day, datetime.min.time(), tzinfo=zone)
    day_end = datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    taken = _taken(therapist, day_start, day_end, ignore)
    per_day = Counter(appointment.start.astimezone(zone).date() for appointment in taken)
    blocks = TimeBlock.objects.filter(therapist=therapist, start__lt=day_end, end__gt=day_start).values_list("start", "end")
    return free_slots(
        availability=therapist_availability(therapist, first_day, last_day),
        service=service_rules(service),
        busy=[Interval(a.blocked_start, a.blocked_end) for a in taken] + [Interval(start, end) for start, end in blocks],
        window_start=window_start,
        window_end=window_end,
        now=now,
        sessions_per_day=per_day,
    )
