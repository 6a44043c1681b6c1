"""Which session a goal rating belongs to: same day first, else the last one within a week (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rapport.plans.sessions import LINK_WITHIN_DAYS, rating_session_choices, session_for_rating, sessions_by_id
from rapport.scheduling.models import AppointmentStatus
from tests.past_sessions import session_at

TORONTO = ZoneInfo("America/Toronto")  # the world's practice zone


def _toronto(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TORONTO)


def test_a_rating_on_the_day_of_a_session_belongs_to_it(world):
    session = session_at(world.individual_case, _toronto(2026, 3, 3, 10))
    assert session_for_rating(world.individual_case, _toronto(2026, 3, 3, 18)) == session
    # Before the session started, on the same day: still that day's session.
    assert session_for_rating(world.individual_case, _toronto(2026, 3, 3, 8)) == session


def test_of_two_sessions_that_day_the_latest_one_already_started_wins(world):
    morning = session_at(world.individual_case, _toronto(2026, 3, 3, 9))
    afternoon = session_at(world.individual_case, _toronto(2026, 3, 3, 15))
    assert session_for_rating(world.individual_case, _toronto(2026, 3, 3, 12)) == morning
    assert session_for_rating(world.individual_case, _toronto(2026, 3, 3, 16)) == afternoon


def test_the_day_is_the_practices_day_not_utc(world):
    # 21:00 in Toronto on 3 March is already 4 March in UTC: still the 3 March session's day.
    session = session_at(world.individual_case, _toronto(2026, 3, 3, 20))
    rated = _toronto(2026, 3, 3, 23, 30)
    assert rated.astimezone(UTC).day == 4
    assert session_for_rating(world.individual_case, rated) == session


def test_a_later_rating_belongs_to_the_last_session_within_the_window(world):
    older = session_at(world.individual_case, _toronto(2026, 3, 3, 10))
    newer = session_at(world.individual_case, _toronto(2026, 3, 10, 10))
    assert session_for_rating(world.individual_case, _toronto(2026, 3, 12, 10)) == newer
    assert session_for_rating(world.individual_case, _toronto(2026, 3, 5, 10)) == older
    ended = newer.end
    assert session_for_rating(world.individual_case, ended + timedelta(days=LINK_WITHIN_DAYS)) == newer
    assert session_for_rating(world.individual_case, ended + timedelta(days=LINK_WITHIN_DAYS, minutes=1)) is None


def test_cancelled_sessions_no_shows_other_cases_and_later_sessions_never_count(world):
    session_at(world.individual_case, _toronto(2026, 3, 3, 10), status=AppointmentStatus.CANCELLED)
    session_at(world.individual_case, _toronto(2026, 3, 4, 10), status=AppointmentStatus.NO_SHOW)
    session_at(world.couple_case, _toronto(2026, 3, 5, 10))
    session_at(world.individual_case, _toronto(2026, 3, 7, 10))
    assert session_for_rating(world.individual_case, _toronto(2026, 3, 6, 10)) is None


def test_the_choices_are_todays_and_earlier_sessions_newest_first(world):
    case = world.individual_case
    first = session_at(case, _toronto(2026, 3, 3, 10))
    second = session_at(case, _toronto(2026, 3, 10, 10), status=AppointmentStatus.BOOKED)
    today_later = session_at(case, _toronto(2026, 3, 17, 16))
    session_at(case, _toronto(2026, 3, 18, 10))  # tomorrow: not offered
    session_at(case, _toronto(2026, 3, 12, 10), status=AppointmentStatus.CANCELLED)
    session_at(world.couple_case, _toronto(2026, 3, 11, 10))
    assert rating_session_choices(case, _toronto(2026, 3, 17, 9)) == [today_later, second, first]
    assert rating_session_choices(case, _toronto(2026, 3, 17, 9), limit=2) == [today_later, second]


def test_sessions_by_id_reads_them_in_one_query(world, django_assert_num_queries):
    one = session_at(world.individual_case, _toronto(2026, 3, 3, 10))
    two = session_at(world.individual_case, _toronto(2026, 3, 10, 10))
    with django_assert_num_queries(1):
        found = sessions_by_id([one.pk, None, two.pk, one.pk])
    assert found == {one.pk: one, two.pk: two}
    with django_assert_num_queries(0):
        assert sessions_by_id([None]) == {}
