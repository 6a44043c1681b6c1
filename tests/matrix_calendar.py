"""Authorization matrix rows for the calendar routes (see tests/matrix_declarations.py for the vocabulary).

A therapist sees and changes only their own appointments and blocks: another therapist's, another
practice's or a missing one is 404. The practice admin and the supervisor have no clinical access
and are turned away (403) before any lookup, as clients are from the whole workspace.

The appointments and blocks these rows need are made by the ``kwargs`` functions, inside each
test's savepoint, at a fixed time three days ahead (so a day's tests find the same rows instead of
booking a therapist twice at once, which PostgreSQL's exclusion constraint would refuse).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from rapport.clients.models import Case
from rapport.practice.models import Service, ServiceKind, Therapist
from rapport.scheduling.diary import calendar_feed_issue
from rapport.scheduling.models import Appointment, TimeBlock
from tests.matrix_declarations import _CASE_VARIANTS, LOGIN, MISSING_CASE_ID, Check, Outcome, Redirect, _case, _case_kwargs, expect
from tests.past_sessions import appointment_row
from tests.personas import World

BOGUS_FEED_TOKEN = "bogus-feed-token-0000"


def _three_days_ahead(hour: int) -> datetime:
    day = (timezone.now() + timedelta(days=3)).date()
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _appointment(therapist: Therapist, kind: str, *, case: Case | None = None, hour: int = 15, **fields: Any) -> Appointment:
    start = _three_days_ahead(hour)
    existing = Appointment.objects.filter(therapist=therapist, start=start).first()
    if existing is not None:
        return existing
    service = Service.objects.get(practice_id=therapist.practice_id, kind=kind)
    return appointment_row(therapist, service, start, case=case, reason="FICTIONAL-REASON for the authorization matrix", **fields)


def _own(world: World) -> Appointment:
    """Therapist A's session with Cora."""
    return _appointment(world.therapist_a, ServiceKind.INDIVIDUAL, case=world.individual_case)


def _consultation_of_b(world: World) -> Appointment:
    """Therapist B's consultation with a visitor who is not a client (yet)."""
    return _appointment(
        world.therapist_b, ServiceKind.CONSULTATION, contact_name="Robin Visitor", contact_email="robin@mail.example", hour=16
    )


def _other_practice(world: World) -> Appointment:
    therapist = Therapist.objects.get(practice=world.other_practice)
    return _appointment(therapist, ServiceKind.INDIVIDUAL, case=world.other_case)


_APPOINTMENT_VARIANTS: tuple[tuple[str, Callable[[World], Any]], ...] = (
    ("", _own),
    ("consultation", _consultation_of_b),
    ("other_practice", _other_practice),
    ("missing", lambda world: None),
)


def _appointment_kwargs(find: Callable[[World], Any]) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        appointment = find(world)
        return {"appointment_id": appointment.public_id if appointment is not None else MISSING_CASE_ID}

    return build


# Who owns each variant's appointment: that therapist gets in, every other therapist gets 404.
_OWNER = {"": "therapist_a", "consultation": "therapist_b", "other_practice": None, "missing": None}


def _outcomes(label: str, owner_gets: Outcome) -> dict[str, Outcome]:
    table = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=404, therapist_b=404)
    owner = _OWNER[label]
    if owner is not None:
        table[owner] = owner_gets
    return table


def _appointment_checks(
    *,
    get: Callable[[str], Outcome] | None,
    post: Callable[[str], Outcome] | None,
    post_data: Callable[[World], dict[str, Any]] | None = None,
    writes: Callable[[str], bool] = lambda label: False,
) -> list[Check]:
    """One check per variant; ``get``/``post`` give the owner's outcome (None: that method is not allowed)."""
    checks = []
    for label, find in _APPOINTMENT_VARIANTS:
        owner = _OWNER[label]
        checks.append(
            Check(
                label=label,
                kwargs=_appointment_kwargs(find),
                get=_outcomes(label, get(label)) if get is not None else expect(everyone=405),
                post=_outcomes(label, post(label)) if post is not None else expect(everyone=405),
                post_data=post_data,
                post_writers=frozenset({owner}) if owner is not None and writes(label) else frozenset(),
            )
        )
    return checks


def _block_of_a(world: World) -> dict[str, Any]:
    start = _three_days_ahead(12)
    block = TimeBlock.objects.filter(therapist=world.therapist_a, start=start).first()
    if block is None:
        block = TimeBlock.objects.create(therapist=world.therapist_a, start=start, end=start + timedelta(hours=1), label="Supervision")
    return {"block_id": block.public_id}


def _feed_issued(world: World) -> dict[str, Any]:
    # An appointment with a client, so the leak check reads a feed that has something to leak.
    _own(world)
    return {"token": calendar_feed_issue(actor=None, therapist=world.therapist_a)}


_DETAIL = Redirect("workspace:appointment_detail", same_args=True)
_CALENDAR = Redirect("/workspace/calendar/")
_THERAPIST_PAGE = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=200, therapist_b=200)
_WRITE_THERAPISTS = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=_CALENDAR, therapist_b=_CALENDAR)


def _block_data(world: World) -> dict[str, Any]:
    day = (timezone.now() + timedelta(days=4)).date()
    return {"day": day.isoformat(), "start_time": "07:00", "end_time": "08:00", "label": "Supervision"}


def _case_book_checks() -> list[Check]:
    """Booking for a case: the treating therapist only; staff without clinical access are turned away first.

    The POST sends a time that is not a time: the treating therapist is told so (400) and nothing
    is booked. That answer shows the case's clients again, so its "view" audit event is expected:
    hence the writer (tests/test_workspace_case_book.py pins that nothing is booked).
    """
    checks = []
    for label, which in _CASE_VARIANTS:
        table = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=404, therapist_b=404)
        treated = which in ("individual_case", "couple_case")
        checks.append(
            Check(
                label=label,
                kwargs=_case_kwargs(which),
                get={**table, "therapist_a": 200} if treated else table,
                reads_case=_case(which),
                post={**table, "therapist_a": 400} if treated else table,
                post_data=lambda world: {"new_start": "not-a-time"},
                post_writers=frozenset({"therapist_a"}) if treated else frozenset(),
            )
        )
    return checks


CALENDAR_ROUTES: dict[str, list[Check]] = {
    "workspace:case_book": _case_book_checks(),
    "workspace:calendar": [Check(get=_THERAPIST_PAGE, post=expect(everyone=405))],
    "workspace:appointment_detail": _appointment_checks(get=lambda label: 200, post=None),
    "workspace:appointment_cancel": _appointment_checks(
        get=None,
        post=lambda label: _DETAIL,
        post_data=lambda world: {"message": "Fictional: I am unwell, sorry."},
        writes=lambda label: True,
    ),
    # A time that is not a time: the owner is told so (400) and nothing moves.
    "workspace:appointment_move": _appointment_checks(
        get=lambda label: 200, post=lambda label: 400, post_data=lambda world: {"new_start": "not-a-time", "message": "Fictional."}
    ),
    # The session has not started yet, so it cannot be a no-show: 400. The owner is an authorised
    # writer all the same: the page shown again with the refusal is a read of the booking details,
    # and its "view" audit event is right (tests/test_workspace_calendar.py pins that nothing changed).
    "workspace:appointment_no_show": _appointment_checks(get=None, post=lambda label: 400, writes=lambda label: True),
    # Only a consultation opens a case; Cora's session is not one (400, as above).
    "workspace:consultation_open_case": _appointment_checks(
        get=None,
        post=lambda label: Redirect("/workspace/cases/") if label == "consultation" else 400,
        post_data=lambda world: {"agreed": "on"},
        writes=lambda label: True,
    ),
    "workspace:block_add": [
        Check(
            get=_THERAPIST_PAGE,
            post=_WRITE_THERAPISTS,
            post_data=_block_data,
            post_writers=frozenset({"therapist_a", "therapist_b"}),
        )
    ],
    "workspace:block_remove": [
        Check(
            kwargs=_block_of_a,
            get=expect(everyone=405),
            post=expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=_CALENDAR, therapist_b=404),
            post_writers=frozenset({"therapist_a"}),
        ),
        Check(
            label="missing",
            kwargs=lambda world: {"block_id": MISSING_CASE_ID},
            get=expect(everyone=405),
            post=expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=404, therapist_b=404),
        ),
    ],
    "workspace:calendar_feed": [
        # Issuing or revoking the address needs a fresh re-authentication: it is a credential.
        Check(
            get=_THERAPIST_PAGE,
            post=expect(
                anonymous=LOGIN,
                clients=403,
                admin=403,
                supervisor=403,
                therapist_a=Redirect("account_reauthenticate"),
                therapist_b=Redirect("account_reauthenticate"),
            ),
            post_data=lambda world: {"action": "issue"},
        )
    ],
    "workspace:calendar_feed_ics": [
        # No sign-in: the token is the credential. An unknown one is 404 for everybody.
        Check(kwargs=lambda world: {"token": BOGUS_FEED_TOKEN}, get=expect(everyone=404), post=expect(everyone=405)),
        Check(label="issued", kwargs=_feed_issued, get=expect(everyone=200), post=expect(everyone=405)),
    ],
    "workspace:consultation_exceptions": [
        Check(
            get=expect(anonymous=LOGIN, signed_in=403, admin=200),
            post=expect(anonymous=LOGIN, signed_in=403, admin=Redirect("workspace:consultation_exceptions")),
            post_data=lambda world: {"email": "once-more@mail.example", "note": "Fictional: moved away and back."},
            post_writers=frozenset({"admin"}),
        )
    ],
}
