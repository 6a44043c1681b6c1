"""Authorization matrix rows for the booking routes (see tests/matrix_declarations.py for the vocabulary).

Booking needs no account: every persona, anonymous included, gets the same answers. The manage
pages are reached by a link whose token is the only credential, so a bogus token is a 404 for
everyone and a real one works for whoever holds it, signed in or not.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from django.utils import timezone

from rapport.practice.models import Service, ServiceKind
from rapport.scheduling.availability import free_starts
from rapport.scheduling.booking import BookingRequest, public_booking_create
from rapport.scheduling.models import WorkingHours
from tests.matrix_declarations import EVERYONE, Check, Redirect, expect
from tests.personas import World

BOGUS_BOOKING_TOKEN = "bogus-booking-token-0000"
_READ_ONLY = expect(everyone=405)


def _service_kwargs(world: World) -> dict[str, Any]:
    return {"service_id": Service.objects.get(practice=world.practice, kind=ServiceKind.INDIVIDUAL).public_id}


def _other_practice_service_kwargs(world: World) -> dict[str, Any]:
    return {"service_id": Service.objects.get(practice=world.other_practice, kind=ServiceKind.INDIVIDUAL).public_id}


def _booked_token(world: World) -> dict[str, Any]:
    """A real booking made through the public flow by a newcomer (not one of the personas' records).

    An individual session, so opening its link writes nothing (only a consultation's contact is
    marked verified on the first visit), and "a GET changed data" stays meaningful.
    """
    therapist = world.therapist_a
    if not WorkingHours.objects.filter(therapist=therapist).exists():
        for weekday in range(7):
            WorkingHours.objects.create(therapist=therapist, weekday=weekday, start=time(9), end=time(17))
    service = Service.objects.get(practice=world.practice, kind=ServiceKind.INDIVIDUAL)
    now = timezone.now()
    start = free_starts(therapist=therapist, service=service, window_start=now, window_end=now + timedelta(days=14), now=now)[0]
    made = public_booking_create(
        practice=world.practice,
        request=BookingRequest(
            service=service,
            therapist=therapist,
            start=start,
            time_zone="America/Toronto",
            name="Nina Newcomer",
            email="nina.newcomer@mail.example",
            privacy_accepted=True,
        ),
        now=now,
    )
    return {"token": made.token}


def _bogus_token(world: World) -> dict[str, Any]:
    return {"token": BOGUS_BOOKING_TOKEN}


def _link_checks(*, get_real: int, post_real: Any, post_data: Any = None, writers: bool = False) -> list[Check]:
    return [
        Check(
            kwargs=_booked_token,
            get=expect(everyone=get_real),
            post=expect(everyone=post_real),
            post_data=post_data,
            post_writers=frozenset(EVERYONE) if writers else frozenset(),
            notes="The link holder, whoever they are signed in as.",
        ),
        Check(label="bogus", kwargs=_bogus_token, get=expect(everyone=404), post=expect(everyone=404)),
    ]


BOOKING_ROUTES: dict[str, list[Check]] = {
    "site:book": [Check(get=expect(everyone=200), post=_READ_ONLY)],
    "site:privacy": [Check(get=expect(everyone=200), post=_READ_ONLY)],
    "site:book_time": [
        Check(kwargs=_service_kwargs, get=expect(everyone=200), post=_READ_ONLY),
        Check(label="other_practice", kwargs=_other_practice_service_kwargs, get=expect(everyone=404)),
    ],
    "site:book_details": [
        # Without a chosen time: back to the times. An empty POST books nothing (400, the form's errors).
        Check(
            kwargs=_service_kwargs,
            get=expect(everyone=Redirect("site:book_time", same_args=True)),
            post=expect(everyone=400),
        ),
        Check(label="other_practice", kwargs=_other_practice_service_kwargs, get=expect(everyone=404), post=expect(everyone=404)),
    ],
    "site:booking_manage": [
        Check(kwargs=_booked_token, get=expect(everyone=200), post=_READ_ONLY),
        Check(label="bogus", kwargs=_bogus_token, get=expect(everyone=404), post=_READ_ONLY),
    ],
    # Cancelling through a real link is what the link is for: every persona holding it may.
    "site:booking_cancel": _link_checks(get_real=200, post_real=Redirect("site:booking_manage", same_args=True), writers=True),
    # A POST without a chosen time moves nothing (400).
    "site:booking_reschedule": _link_checks(get_real=200, post_real=400),
}
