"""Reads for the therapist's calendar: the one place that decides whose appointments a user may open.

A therapist sees and acts on their own appointments only. Anyone else gets 404 (another
therapist, another practice, a client), except a practice admin or supervisor of the same
practice, who gets 403: they know the appointment exists, and their role gives no clinical access.

The day and week grids are built in the therapist's own time zone, from UTC ranges that start and
end at the therapist's local midnights, so a day with a clock change has 23 or 25 hours and
nothing falls between two days.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest

from rapport.accounts.models import Role
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.case_audit import case_audit
from rapport.clients.models import CaseMember
from rapport.practice.models import Practice, Service, Therapist
from rapport.scheduling.availability import free_starts
from rapport.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AvailabilityOverride,
    ConsultationException,
    OverrideKind,
    TimeBlock,
    WorkingHours,
)

DAY = "day"
WEEK = "week"
VIEWS = (DAY, WEEK)
# Rows shown even on an empty day, so the grid keeps its shape from one week to the next.
_FIRST_ROW_HOUR = 8
_LAST_ROW_HOUR = 17


# --- Who may open what ----------------------------------------------------------------------------


def therapist_of(user: Any) -> Therapist:
    """The signed-in therapist's own profile; 403 for anyone without one."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.THERAPIST:
        raise PermissionDenied("Only therapists have a calendar.")
    therapist = Therapist.objects.select_related("practice", "user").filter(user=user).first()
    if therapist is None:
        raise PermissionDenied("Your account has no therapist profile.")
    return therapist


def _refuse(user: Any, practice_id: int) -> None:
    if getattr(user, "is_authenticated", False) and user.practice_id == practice_id and user.role in (Role.PRACTICE_ADMIN, Role.SUPERVISOR):
        raise PermissionDenied("Your role does not give access to appointments.")
    raise Http404("No such appointment")


def _with_people(appointments: QuerySet[Appointment]) -> QuerySet[Appointment]:
    members = CaseMember.objects.select_related("client").order_by("position")
    return appointments.select_related("service", "case", "practice", "therapist").prefetch_related(
        Prefetch("case__members", queryset=members)
    )


def appointment_get_for_user(user: Any, public_id: uuid.UUID | str, *, with_people: bool = True) -> Appointment:
    """One appointment if it is the user's own (as its therapist); 404 or 403 otherwise. Not audited.

    ``with_people``: with the case's members and their client records (one more query), for
    pages that name them; without, only the case's primary therapist comes with the case, and the
    service is read when first used.
    """
    appointments: QuerySet[Appointment] = Appointment.objects.all()
    if with_people:
        appointments = _with_people(appointments)
    else:
        appointments = appointments.select_related("case__primary_therapist", "practice", "therapist")
    try:
        appointment = appointments.get(public_id=public_id)
    except (Appointment.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such appointment") from None
    if getattr(user, "role", None) != Role.THERAPIST or appointment.therapist.user_id != user.pk:
        _refuse(user, appointment.practice_id)
    return appointment


def appointment_read_audit(user: Any, appointment: Appointment, *, request: HttpRequest | None = None) -> None:
    """Record that the user read the appointment's booking details (its reason is clinical text).

    One "view" event per client of the case, or one for the practice when a consultation has no
    client record yet. The object is the appointment; nothing of what it says goes in the event.
    """
    if appointment.case is not None:
        case_audit(
            actor=user,
            action=Action.VIEW,
            case=appointment.case,
            request=request,
            object_type="scheduling.appointment",
            object_id=appointment.public_id,
        )
    else:
        audit_record(
            actor=user,
            action=Action.VIEW,
            object_type="scheduling.appointment",
            object_id=appointment.public_id,
            practice_id=appointment.practice.public_id,
            request=request,
        )


def appointment_read_for_user(user: Any, public_id: uuid.UUID | str, *, request: HttpRequest | None = None) -> Appointment:
    """The user's own appointment, for a page that shows its details; the read is audited."""
    appointment = appointment_get_for_user(user, public_id)
    appointment_read_audit(user, appointment, request=request)
    return appointment


def block_get_for_user(user: Any, public_id: uuid.UUID | str) -> TimeBlock:
    """One of the user's own time blocks; 404 for anything else."""
    therapist = therapist_of(user)
    try:
        return TimeBlock.objects.select_related("therapist__practice").get(public_id=public_id, therapist=therapist)
    except (TimeBlock.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such block") from None


def consultation_exceptions_of(practice: Practice) -> QuerySet[ConsultationException]:
    return ConsultationException.objects.filter(practice=practice).select_related("granted_by", "used_by").order_by("-created_at")


# --- What an appointment shows ----------------------------------------------------------------------


def appointment_people(appointment: Appointment) -> str:
    """Who the appointment is with, for the therapist: the case's clients, or a consultation's contact."""
    if appointment.case is not None:
        names = [member.client.full_name for member in appointment.case.members.all()]
        if names:
            return " & ".join(names)
    return appointment.contact_name or appointment.contact_email or "No name given"


def appointment_can_change(appointment: Appointment, now: datetime) -> bool:
    return appointment.status == AppointmentStatus.BOOKED and appointment.start > now


def appointment_can_be_no_show(appointment: Appointment, now: datetime) -> bool:
    return appointment.status == AppointmentStatus.BOOKED and appointment.start <= now


def appointments_on_day(therapist: Therapist, day: date) -> list[Appointment]:
    """The therapist's appointments that start on ``day`` (their local date), cancelled ones included."""
    zone = ZoneInfo(therapist.time_zone)
    start, end = local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
    return list(_with_people(Appointment.objects.filter(therapist=therapist, start__gte=start, start__lt=end)).order_by("start"))


def move_options(appointment: Appointment, day: date, *, now: datetime) -> list[datetime]:
    """The starts the appointment could move to on ``day`` (the therapist's local date), in UTC.

    The same question the booking page asks (``free_starts``), so every time offered here is one
    the reschedule service accepts. The appointment's own time counts as free, as it does for
    the reschedule service, so a move of a quarter of an hour is offered too (its current start is not).
    """
    starts = free_starts_on_day(appointment.therapist, appointment.service, day, now=now, ignore=appointment)
    return [start for start in starts if start != appointment.start]  # its own start would be no move


def free_starts_on_day(
    therapist: Therapist, service: Service, day: date, *, now: datetime, ignore: Appointment | None = None
) -> list[datetime]:
    """The therapist's free starts for the service on ``day`` (their local date), in UTC."""
    zone = ZoneInfo(therapist.time_zone)
    return free_starts(
        therapist=therapist,
        service=service,
        window_start=local_midnight(day, zone),
        window_end=local_midnight(day + timedelta(days=1), zone),
        now=now,
        ignore=ignore,
    )


# --- The grid -------------------------------------------------------------------------------------------


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Entry:
    """One appointment or block as it appears on one day (clipped to that day), in local time."""

    start: datetime
    end: datetime
    # The part shown starts after the thing itself (it began on an earlier day) or ends before it.
    continued: bool
    continues: bool
    appointment: Appointment | None = None
    block: TimeBlock | None = None
    # On a day the clocks change, 01:30 can happen twice: then times carry their zone's abbreviation.
    show_zone: bool = False

    @property
    def zone_abbreviation(self) -> str:
        # Django's date filter leaves the abbreviation out for an ambiguous time, which is exactly
        # the hour that needs it; the aware local datetime knows which of the two it is.
        return self.start.tzname() or ""

    @property
    def is_appointment(self) -> bool:
        return self.appointment is not None

    @property
    def people(self) -> str:
        return appointment_people(self.appointment) if self.appointment is not None else ""

    @property
    def cancelled(self) -> bool:
        return self.appointment is not None and self.appointment.status == AppointmentStatus.CANCELLED


@dataclass(frozen=True)
class Day:
    day: date
    is_today: bool
    # The day's working hours as words ("09:00 to 17:00", "Day off", "No working hours").
    hours: str
    time_off: bool
    # Set on the days the clocks change, e.g. "Clocks go back one hour (EDT to EST)".
    clock_change: str


@dataclass(frozen=True)
class Row:
    hour: int
    cells: tuple[tuple[Entry, ...], ...]

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:00"


@dataclass(frozen=True)
class CalendarGrid:
    view: str
    anchor: date
    today: date
    time_zone: str
    days: tuple[Day, ...]
    rows: tuple[Row, ...]
    appointment_count: int
    block_count: int

    @property
    def first_day(self) -> date:
        return self.days[0].day

    @property
    def last_day(self) -> date:
        return self.days[-1].day

    @property
    def previous(self) -> date:
        return self.anchor - timedelta(days=7 if self.view == WEEK else 1)

    @property
    def following(self) -> date:
        return self.anchor + timedelta(days=7 if self.view == WEEK else 1)


def first_day_shown(anchor: date, view: str) -> date:
    """A week view always starts on the Monday of the anchor's week."""
    return anchor - timedelta(days=anchor.weekday()) if view == WEEK else anchor


def _hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def _ranges_text(ranges: Iterable[tuple[time, time]]) -> str:
    return ", ".join(f"{_hhmm(start)} to {_hhmm(end)}" for start, end in sorted(ranges))


def _day_hours(therapist: Therapist, days: list[date]) -> tuple[dict[date, tuple[str, bool]], dict[date, list[tuple[time, time]]]]:
    """Each day's working hours as words, and as ranges (for the rows to show)."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for hours in WorkingHours.objects.filter(therapist=therapist):
        weekly.setdefault(hours.weekday, []).append((hours.start, hours.end))
    overrides: dict[date, list[AvailabilityOverride]] = {}
    for override in AvailabilityOverride.objects.filter(therapist=therapist, day__gte=days[0], day__lte=days[-1]):
        overrides.setdefault(override.day, []).append(override)
    words: dict[date, tuple[str, bool]] = {}
    ranges: dict[date, list[tuple[time, time]]] = {}
    for day in days:
        todays = overrides.get(day, [])
        if any(o.kind == OverrideKind.DAY_OFF for o in todays):
            words[day], ranges[day] = ("Day off", True), []
            continue
        replaced = [(o.start, o.end) for o in todays if o.kind == OverrideKind.REPLACE and o.start and o.end]
        extra = [(o.start, o.end) for o in todays if o.kind == OverrideKind.EXTRA and o.start and o.end]
        day_ranges = (replaced if replaced else weekly.get(day.weekday(), [])) + extra
        ranges[day] = day_ranges
        text = _ranges_text(day_ranges) if day_ranges else "No working hours"
        if replaced:
            text += " (changed for this day)"
        elif extra:
            text += " (extra hours added)"
        words[day] = (text, False)
    return words, ranges


def _clock_change(day: date, zone: ZoneInfo) -> str:
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    before, after = start.utcoffset(), end.utcoffset()
    if before is None or after is None or before == after:
        return ""
    direction = "forward" if after > before else "back"
    minutes = abs(int((after - before).total_seconds() // 60))
    amount = "one hour" if minutes == 60 else f"{minutes} minutes"
    return f"Clocks go {direction} {amount} ({start.tzname()} to {end.tzname()})"


def _clip(start: datetime, end: datetime, day_start: datetime, day_end: datetime, zone: ZoneInfo) -> tuple[datetime, datetime, bool, bool]:
    shown_start, shown_end = max(start, day_start), min(end, day_end)
    return shown_start.astimezone(zone), shown_end.astimezone(zone), start < day_start, end > day_end


def calendar_grid(therapist: Therapist, *, anchor: date, view: str, now: datetime) -> CalendarGrid:
    """The day or week around ``anchor`` as rows of hours and columns of days, in the therapist's zone.

    Appointments of every status are included (a cancelled one stays visible, marked as such),
    with the therapist's time blocks and the days off and changed hours of the practice's overrides.
    Each entry sits in the row of the hour it starts in on that day; one that runs over midnight
    also appears at the top of the next day, marked as continued.
    """
    if view not in VIEWS:
        raise ValueError(f"Unknown calendar view {view!r}")
    zone = ZoneInfo(therapist.time_zone)
    first = first_day_shown(anchor, view)
    days = [first + timedelta(days=offset) for offset in range(7 if view == WEEK else 1)]
    range_start, range_end = local_midnight(days[0], zone), local_midnight(days[-1] + timedelta(days=1), zone)
    appointments = list(
        _with_people(Appointment.objects.filter(therapist=therapist, start__lt=range_end, end__gt=range_start)).order_by("start", "id")
    )
    blocks = list(TimeBlock.objects.filter(therapist=therapist, start__lt=range_end, end__gt=range_start).order_by("start", "id"))
    hours_words, hours_ranges = _day_hours(therapist, days)
    today = now.astimezone(zone).date()

    per_day: list[dict[int, list[Entry]]] = []
    first_hour, last_hour = _FIRST_ROW_HOUR, _LAST_ROW_HOUR
    for day in days:
        day_start, day_end = local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)
        clock_changes = bool(_clock_change(day, zone))
        by_hour: dict[int, list[Entry]] = {}
        items: list[tuple[datetime, datetime, Appointment | None, TimeBlock | None]] = [
            (a.start, a.end, a, None) for a in appointments if a.start < day_end and a.end > day_start
        ]
        items += [(b.start, b.end, None, b) for b in blocks if b.start < day_end and b.end > day_start]
        for start, end, appointment, block in items:
            shown_start, shown_end, continued, continues = _clip(start, end, day_start, day_end, zone)
            entry = Entry(shown_start, shown_end, continued, continues, appointment=appointment, block=block, show_zone=clock_changes)
            by_hour.setdefault(shown_start.hour, []).append(entry)
            first_hour, last_hour = min(first_hour, shown_start.hour), max(last_hour, shown_start.hour)
        for range_from, range_to in hours_ranges[day]:
            # A range ending on the hour needs no row for that hour; one ending at 17:30 does.
            last = range_to.hour if range_to.minute else range_to.hour - 1
            first_hour, last_hour = min(first_hour, range_from.hour), max(last_hour, last)
        for entries in by_hour.values():
            entries.sort(key=lambda e: (e.start, e.block is not None))
        per_day.append(by_hour)

    rows = tuple(
        Row(hour=hour, cells=tuple(tuple(by_hour.get(hour, ())) for by_hour in per_day)) for hour in range(first_hour, last_hour + 1)
    )
    return CalendarGrid(
        view=view,
        anchor=anchor,
        today=today,
        time_zone=therapist.time_zone,
        days=tuple(
            Day(
                day=day,
                is_today=day == today,
                hours=hours_words[day][0],
                time_off=hours_words[day][1],
                clock_change=_clock_change(day, zone),
            )
            for day in days
        ),
        rows=rows,
        appointment_count=len(appointments),
        block_count=len(blocks),
    )


def move_next_free_day(appointment: Appointment, after: date, *, now: datetime, days: int = 28) -> date | None:
    """The first local date after ``after`` with a free time for the appointment, within ``days``."""
    return next_free_day(appointment.therapist, appointment.service, after, now=now, days=days, ignore=appointment)


def next_free_day(
    therapist: Therapist, service: Service, after: date, *, now: datetime, days: int = 28, ignore: Appointment | None = None
) -> date | None:
    """The first local date after ``after`` with a free time of the therapist for the service, within ``days``."""
    zone = ZoneInfo(therapist.time_zone)
    starts = free_starts(
        therapist=therapist,
        service=service,
        window_start=local_midnight(after + timedelta(days=1), zone),
        window_end=local_midnight(after + timedelta(days=1 + days), zone),
        now=now,
        ignore=ignore,
    )
    return starts[0].astimezone(zone).date() if starts else None


FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=180)


def feed_appointments(therapist: Therapist, *, now: datetime) -> QuerySet[Appointment]:
    """What the private feed carries: the therapist's appointments from 30 days back to 180 ahead.

    Cancelled ones too, so a phone calendar that already shows one learns that it is off.
    """
    return Appointment.objects.filter(therapist=therapist, start__gte=now - FEED_PAST, start__lt=now + FEED_AHEAD).order_by("start")


def blocks_upcoming(therapist: Therapist, *, now: datetime, limit: int = 50) -> list[TimeBlock]:
    return list(TimeBlock.objects.filter(therapist=therapist, end__gt=now).order_by("start")[:limit])
