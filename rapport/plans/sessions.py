"""Which session a goal rating belongs to (docs/gas.md, "Ratings and sessions").

A rating is dated by itself; linking it to a session says which meeting it was made for, so the
progress pages can show "rated +1, session of 3 March 2026". The therapist picks the session in the
rating form (``rating_session_choices``, default ``session_for_rating``); a client's rating is linked
automatically with ``session_for_rating`` because a client should not have to know which
appointment a rating "belongs" to.

Only sessions that took place or are booked count: a cancelled session or a no-show was not a
meeting a goal could be talked about in.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from rapport.clients.models import Case
from rapport.scheduling.models import Appointment, AppointmentStatus

# Our design choice, not a published rule: with weekly or fortnightly sessions, a rating made in
# the week after a session is about that session's work; one made later is about the time between
# sessions and stays unlinked rather than being pinned to a meeting long past.
LINK_WITHIN_DAYS = 7

# How many past sessions the therapist's rating form offers: a few months of weekly sessions.
CHOICE_LIMIT = 12

_HELD_OR_BOOKED = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED)


def _zone(case: Case) -> ZoneInfo:
    # Sessions take place on the practice's days, so "the same day" is the practice's day.
    return ZoneInfo(case.practice.time_zone)


def _sessions(case: Case) -> QuerySet[Appointment]:
    return Appointment.objects.filter(case=case, status__in=_HELD_OR_BOOKED)


def session_for_rating(case: Case, at: datetime, *, within_days: int = LINK_WITHIN_DAYS) -> Appointment | None:
    """The session of ``case`` that a rating made at ``at`` belongs to, or None.

    The case's session on the same day (in the practice's zone) if there is one: of several, the
    latest that had started by ``at``, else the first of the day. Otherwise the most recent session
    that ended no more than ``within_days`` days before ``at``. Cancelled sessions and no-shows never
    count. Two queries at most.
    """
    zone = _zone(case)
    local = at.astimezone(zone)
    day_start = datetime.combine(local.date(), datetime.min.time(), tzinfo=zone)
    day_end = day_start + timedelta(days=1)
    same_day = list(_sessions(case).filter(start__gte=day_start, start__lt=day_end).order_by("start", "id"))
    if same_day:
        started = [s for s in same_day if s.start <= at]
        return started[-1] if started else same_day[0]
    return _sessions(case).filter(end__lte=at, end__gte=at - timedelta(days=within_days)).order_by("-end", "-id").first()


def rating_session_choices(case: Case, at: datetime, *, limit: int = CHOICE_LIMIT) -> list[Appointment]:
    """The sessions a rating made at ``at`` may be linked to, newest first: today's and earlier ones.

    Sessions on later days are left out: a goal is rated for a meeting that has happened, or is
    happening today.
    """
    zone = _zone(case)
    tomorrow = datetime.combine(at.astimezone(zone).date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return list(_sessions(case).filter(start__lt=tomorrow).order_by("-start", "-id")[:limit])


def sessions_by_id(ids: Iterable[int | None]) -> dict[int, Appointment]:
    """The sessions with these keys, in one query, for pages that show the session of each rating.

    Callers pass the ``appointment_id`` of ratings they were already allowed to read; the session's
    date is all a page shows of it.
    """
    wanted = {pk for pk in ids if pk is not None}
    if not wanted:
        return {}
    return {a.pk: a for a in Appointment.objects.filter(pk__in=wanted)}
