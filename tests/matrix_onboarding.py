"""Authorization matrix rows for onboarding (see tests/matrix_declarations.py for the vocabulary).

Inviting and reading an intake are case pages: anonymous visitors sign in, clients get the
workspace's 403, the practice admin and the supervisor 403 (insiders without clinical access),
therapist B and every other practice 404, and so does a client id that is not a member of the case.
Only therapist A (the case's therapist) gets through. The welcome page is reached without an
account: a bogus link is 404 for anonymous visitors, a signed-in visitor is told to sign out first
whatever the link (and nothing changes). The portal intake page takes no ids: every client gets
their own.

The personas all have accounts already, so the invitable clients are made by the ``kwargs``
functions (tests/newcomers.py), inside each test's savepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.clients.intake import intake_save
from rapport.clients.models import Client
from rapport.clients.onboarding import client_invite
from tests.matrix_declarations import BOGUS_TOKEN, LOGIN, MISSING_CASE_ID, Check, Outcome, Redirect, expect
from tests.newcomers import NEW_PASSWORD, Newcomers, add_newcomers
from tests.personas import World


def _newcomers(world: World) -> Newcomers:
    """The newcomers, made once per test (a test may build the arguments of several variants)."""
    nina = Client.objects.filter(practice=world.practice, email="nina@mail.example").first()
    if nina is None:
        return add_newcomers(world)
    ana = Client.objects.get(practice=world.practice, email="ana@mail.example")
    return Newcomers(
        nina=nina,
        ana=ana,
        ben=Client.objects.get(practice=world.practice, email="ben@mail.example"),
        nina_case=nina.memberships.get().case,
        couple=ana.memberships.get().case,
    )


def member_ids(case: Any, client: Any) -> dict[str, Any]:
    return {"case_id": case.public_id if case is not None else MISSING_CASE_ID, "client_id": client.public_id}


def _invite_kwargs(which: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if which == "newcomer":
            newcomers = _newcomers(world)
            return member_ids(newcomers.nina_case, newcomers.nina)
        return {
            "has_account": lambda: member_ids(world.couple_case, world.partner_a),
            "not_a_member": lambda: member_ids(world.couple_case, world.client),
            "other_practice": lambda: member_ids(world.other_case, world.other_client),
            "missing": lambda: member_ids(None, world.client),
        }[which]()

    return build


def _case_page(*, therapist_a: Outcome) -> dict[str, Outcome]:
    return expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=therapist_a, therapist_b=404)


# Another practice's case, or none at all: 404 for every member of staff, before any role check.
_NOT_FOUND_FOR_STAFF = expect(anonymous=LOGIN, clients=403, staff=404)
_BACK_TO_CASE = Redirect("/workspace/cases/")


def pat_wrote_an_intake(world: World) -> dict[str, Any]:
    user = world.user("partner_a")
    assert user is not None
    intake_save(actor=user, client=world.partner_a, what_brings_you="Fictional: matrix words.", what_you_hope_for="Fictional hope.")
    return member_ids(world.couple_case, world.partner_a)


def pat_wrote_an_intake_for_the_portal(world: World) -> dict[str, Any]:
    # The page takes no ids: Pat sees the form filled in, everyone else their own empty one.
    pat_wrote_an_intake(world)
    return {}


def _a_valid_link(world: World) -> dict[str, Any]:
    newcomers = _newcomers(world)
    therapist = world.user("therapist_a")
    assert therapist is not None
    return {"token": client_invite(actor=therapist, case=newcomers.nina_case, client=newcomers.nina).token}


_PASSWORDS = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
_INTAKE = {"what_brings_you": "Fictional: written through the authorization matrix.", "phone": "+1 555 0100"}

ONBOARDING_ROUTES: dict[str, list[Check]] = {
    "workspace:client_invite": [
        Check(
            kwargs=_invite_kwargs("newcomer"),
            get=expect(everyone=405),
            post=_case_page(therapist_a=_BACK_TO_CASE),
            post_writers=frozenset({"therapist_a"}),
        ),
        # Refused with a message on the case page: an account exists already. Nothing changes.
        Check(
            label="has_account", kwargs=_invite_kwargs("has_account"), get=expect(everyone=405), post=_case_page(therapist_a=_BACK_TO_CASE)
        ),
        Check(label="not_a_member", kwargs=_invite_kwargs("not_a_member"), get=expect(everyone=405), post=_case_page(therapist_a=404)),
        Check(label="other_practice", kwargs=_invite_kwargs("other_practice"), get=expect(everyone=405), post=_NOT_FOUND_FOR_STAFF),
        Check(label="missing", kwargs=_invite_kwargs("missing"), get=expect(everyone=405), post=_NOT_FOUND_FOR_STAFF),
    ],
    "workspace:client_intake": [
        Check(kwargs=pat_wrote_an_intake, get=_case_page(therapist_a=200), post=expect(everyone=405)),
        Check(
            label="not_a_member", kwargs=lambda world: member_ids(world.individual_case, world.partner_a), get=_case_page(therapist_a=404)
        ),
        Check(label="other_practice", kwargs=lambda world: member_ids(world.other_case, world.other_client), get=_NOT_FOUND_FOR_STAFF),
        Check(label="missing", kwargs=lambda world: member_ids(None, world.partner_a), get=_NOT_FOUND_FOR_STAFF),
    ],
    "portal:intake": [
        Check(
            kwargs=pat_wrote_an_intake_for_the_portal,
            get=expect(anonymous=LOGIN, staff=403, clients=200),
            post=expect(anonymous=LOGIN, staff=403, clients=Redirect("portal:home")),
            post_data=lambda world: _INTAKE,
            post_writers=frozenset({"client", "partner_a", "partner_b", "other_practice_client"}),
        ),
        Check(
            label="nothing_typed",
            get=expect(anonymous=LOGIN, staff=403, clients=200),
            post=expect(anonymous=LOGIN, staff=403, clients=400),
        ),
    ],
    "portal:welcome": [
        Check(
            kwargs=lambda world: {"token": BOGUS_TOKEN},
            get=expect(anonymous=404, signed_in=200),
            post=expect(anonymous=404, signed_in=200),
            post_data=lambda world: _PASSWORDS,
        ),
        Check(
            label="valid",
            kwargs=_a_valid_link,
            get=expect(anonymous=200, signed_in=200),
            post=expect(anonymous=Redirect("portal:home"), signed_in=200),
            post_data=lambda world: _PASSWORDS,
            post_writers=frozenset({"anonymous"}),
        ),
    ],
}
