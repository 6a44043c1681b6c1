"""Authorization matrix rows for answering check-ins (see tests/matrix_declarations.py for the vocabulary).

The one-time link needs no account: for anonymous visitors a valid link shows the first question
and a POST saves an answer; an unknown token is 404; a used link is a plain message (its POST is
refused with 409 and changes nothing). A signed-in visitor is never treated as the link's owner
(``answers_save`` refuses an account and a link together): the owner is sent to the same check-in
in their portal, everyone else is asked to sign out, and whatever they post changes nothing.

The portal pages take the client's own check-ins only: staff get the portal's 403, another client
(the other partner included) 404, a missing id 404. The check-ins are made by the ``kwargs``
functions (tests/answering.py), inside each test's savepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from rapport.measures.models import AdministrationStatus
from tests.answering import open_checkin
from tests.matrix_declarations import BOGUS_TOKEN, LOGIN, MISSING_CASE_ID, Check, Outcome, Redirect, expect
from tests.personas import World

_TO_PORTAL = Redirect("/portal/check-ins/")
_NEXT_QUESTION = Redirect("/checkin/")


def _token(label: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if label == "bogus":
            return {"token": BOGUS_TOKEN}
        extra: dict[str, Any] = {"status": AdministrationStatus.COMPLETED, "submitted_at": timezone.now()} if label == "used" else {}
        return {"token": open_checkin(world, label=label, **extra)[1]}

    return build


def _administration(who: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if who == "missing":
            return {"administration_id": MISSING_CASE_ID}
        key = "presession" if who.startswith("partner") else "phq9"
        return {"administration_id": open_checkin(world, who, key=key)[0].public_id}

    return build


def _answer_first(world: World) -> dict[str, Any]:
    return {"action": "next", "item": "phq9_1", "answer": "1"}


def _portal_page(owner: str | None, *, owner_gets: Outcome) -> dict[str, Outcome]:
    table = expect(anonymous=LOGIN, staff=403, clients=404)
    if owner is not None:
        table[owner] = owner_gets
    return table


_SIGNED_OUT_PLEASE = 200

CHECKIN_ROUTES: dict[str, list[Check]] = {
    "checkin_link": [
        Check(
            kwargs=_token(""),
            get=expect(anonymous=200, signed_in=_SIGNED_OUT_PLEASE, client=_TO_PORTAL),
            post=expect(anonymous=_NEXT_QUESTION, signed_in=_SIGNED_OUT_PLEASE),
            post_data=_answer_first,
            post_writers=frozenset({"anonymous"}),
        ),
        Check(
            label="bogus",
            kwargs=_token("bogus"),
            get=expect(anonymous=404, signed_in=_SIGNED_OUT_PLEASE),
            post=expect(anonymous=404, signed_in=_SIGNED_OUT_PLEASE),
            post_data=_answer_first,
        ),
        Check(
            label="used",
            kwargs=_token("used"),
            get=expect(anonymous=200, signed_in=_SIGNED_OUT_PLEASE, client=_TO_PORTAL),
            post=expect(anonymous=409, signed_in=_SIGNED_OUT_PLEASE),
            post_data=_answer_first,
        ),
    ],
    "portal:checkins": [Check(get=expect(anonymous=LOGIN, staff=403, clients=200), post=expect(everyone=405))],
    "portal:checkin": [
        Check(
            kwargs=_administration("client"),
            get=_portal_page("client", owner_gets=200),
            post=_portal_page("client", owner_gets=_TO_PORTAL),
            post_data=_answer_first,
            post_writers=frozenset({"client"}),
        ),
        Check(label="partner", kwargs=_administration("partner_a"), get=_portal_page("partner_a", owner_gets=200)),
        Check(label="other_practice", kwargs=_administration("other"), get=_portal_page("other_practice_client", owner_gets=200)),
        Check(label="missing", kwargs=_administration("missing"), get=_portal_page(None, owner_gets=200)),
    ],
}
