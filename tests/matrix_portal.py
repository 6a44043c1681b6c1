"""Authorization matrix rows for the client portal (see tests/matrix_declarations.py for the vocabulary).

The portal is for clients only: staff get 403 before anything is looked up and anonymous visitors
are sent to sign in. Its pages take no ids: each client sees their own sessions and their own
record's access list, so every client gets 200 and nothing of anyone else's (the leak check on
every 200 page holds them to the names they may see). The home page is checked with sessions
booked, so it is the page with content that the leak check reads.
"""

from __future__ import annotations

from typing import Any

from rapport.consents.services import consent_defaults_create, consent_sign
from rapport.practice.models import ServiceKind
from tests.matrix_declarations import LOGIN, Check, Redirect, expect
from tests.personas import World
from tests.sessions import book

_READ_ONLY = expect(everyone=405)


def _with_sessions(world: World) -> dict[str, Any]:
    book(world, world.individual_case, ServiceKind.INDIVIDUAL, hour=10)
    book(world, world.couple_case, ServiceKind.COUPLE, hour=13)
    return {}


def _documents(world: World) -> tuple[Any, Any]:
    return consent_defaults_create(actor=None, practice=world.practice), consent_defaults_create(actor=None, practice=world.other_practice)


def _harbour_version(world: World) -> dict[str, Any]:
    return {"version_id": _documents(world)[0].public_id}


def _other_practice_version(world: World) -> dict[str, Any]:
    return {"version_id": _documents(world)[1].public_id}


def _signed_by_every_client(item_key: str) -> Any:
    """Every client persona has signed their practice's document, agreeing to every item."""

    def build(world: World) -> dict[str, Any]:
        harbour, elsewhere = _documents(world)
        for client, version in (
            (world.client, harbour),
            (world.partner_a, harbour),
            (world.partner_b, harbour),
            (world.other_client, elsewhere),
        ):
            assert client.user is not None
            choices = {item.key: True for item in version.items.all()}
            consent_sign(actor=client.user, client=client, version=version, typed_name=client.full_name, choices=choices)
        return {"item_key": item_key}

    return build


def _with_signatures(world: World) -> dict[str, Any]:
    _signed_by_every_client("treatment")(world)
    return {}


def _unsigned_item(world: World) -> dict[str, Any]:
    _documents(world)
    return {"item_key": "email_reminders"}


_CLIENTS_ONLY = expect(anonymous=LOGIN, staff=403, clients=200)
# Signing with no name is refused for everyone it is open to: the matrix pins that a refused
# signature writes nothing (the happy path is in tests/test_portal_consents.py).
_UNSIGNED_POST = {"shown": ["treatment"], "granted": ["treatment"], "typed_name": ""}

PORTAL_ROUTES: dict[str, list[Check]] = {
    "portal:home": [Check(kwargs=_with_sessions, get=expect(anonymous=LOGIN, staff=403, clients=200), post=_READ_ONLY)],
    "portal:record_access": [Check(kwargs=_with_sessions, get=expect(anonymous=LOGIN, staff=403, clients=200), post=_READ_ONLY)],
    "portal:consents": [Check(kwargs=_with_signatures, get=_CLIENTS_ONLY, post=_READ_ONLY)],
    "portal:consent_sign": [
        Check(
            kwargs=_harbour_version,
            get=expect(anonymous=LOGIN, staff=403, clients=200, other_practice_client=404),
            post=expect(anonymous=LOGIN, staff=403, clients=400, other_practice_client=404),
            post_data=lambda world: _UNSIGNED_POST,
        ),
        Check(
            label="other_practice",
            kwargs=_other_practice_version,
            get=expect(anonymous=LOGIN, staff=403, clients=404, other_practice_client=200),
            post=expect(anonymous=LOGIN, staff=403, clients=404, other_practice_client=400),
            post_data=lambda world: _UNSIGNED_POST,
        ),
    ],
    "portal:consent_withdraw": [
        Check(
            kwargs=_signed_by_every_client("email_reminders"),
            get=_CLIENTS_ONLY,
            post=expect(anonymous=LOGIN, staff=403, clients=Redirect("portal:consents")),
            post_writers=frozenset({"client", "partner_a", "partner_b", "other_practice_client"}),
        ),
        Check(
            label="never_signed",
            kwargs=_unsigned_item,
            get=expect(anonymous=LOGIN, staff=403, clients=404),
            post=expect(anonymous=LOGIN, staff=403, clients=404),
        ),
    ],
}
