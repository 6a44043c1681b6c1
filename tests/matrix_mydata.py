"""Authorization matrix rows for signature records and "My data" (see tests/matrix_declarations.py).

A signature is its signer's: the client sees their own, and every other client, the other partner
of a couple included, gets 404; staff are turned away from the portal (403) before any lookup.
On the staff side only the case's therapist downloads a signature of one of the case's clients.
An export's download link works for the client who asked for it, signed in; anyone else's is 404
and an expired one is 410. Signatures and exports are made by the ``kwargs`` functions, inside
each test's savepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from rapport.clients.models import Client
from rapport.consents.models import Signature
from rapport.consents.services import consent_defaults_create, consent_sign
from rapport.portal.models import DataExport
from rapport.portal.services import export_build, export_request
from tests.matrix_declarations import LOGIN, MISSING_CASE_ID, Check, Outcome, Redirect, expect
from tests.personas import World


def _signature_of(client: Client) -> Signature:
    version = consent_defaults_create(actor=None, practice=client.practice)
    assert client.user is not None
    choices = {item.key: True for item in version.items.all()}
    return consent_sign(actor=client.user, client=client, version=version, typed_name=client.full_name, choices=choices)


def _signature_kwargs(whose: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if whose == "missing":
            return {"signature_id": MISSING_CASE_ID}
        return {"signature_id": _signature_of(getattr(world, whose)).public_id}

    return build


def _portal_signature_outcomes(owner: str | None) -> dict[str, Outcome]:
    table = expect(anonymous=LOGIN, staff=403, clients=404)
    if owner is not None:
        table[owner] = 200
    return table


_SIGNATURE_VARIANTS = (("", "client", "client"), ("partner", "partner_b", "partner_b"), ("missing", "missing", None))


def _portal_signature_checks() -> list[Check]:
    return [
        Check(label=label, kwargs=_signature_kwargs(whose), get=_portal_signature_outcomes(owner), post=expect(everyone=405))
        for label, whose, owner in _SIGNATURE_VARIANTS
    ]


def case_signature_kwargs(case: str, whose: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        return {"case_id": getattr(world, case).public_id, "signature_id": _signature_of(getattr(world, whose)).public_id}

    return build


# Another practice's case (or a signature not of this case's clients) is 404 for every member of staff.
_OUTSIDE = expect(anonymous=LOGIN, clients=403, staff=404)
_TREATING = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=200, therapist_b=404)
_NOT_OF_THIS_CASE = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=404, therapist_b=404)


def _export_kwargs(state: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if state == "bogus":
            return {"token": "no-export-has-this-token-0000"}
        user = world.user("client")
        assert user is not None
        export = export_request(actor=user)
        export_build(export_pk=export.pk)
        if state == "expired":
            DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
        return {"token": DataExport.objects.get(pk=export.pk).token}

    return build


MYDATA_ROUTES: dict[str, list[Check]] = {
    "portal:consent_signature": _portal_signature_checks(),
    "portal:consent_signature_pdf": _portal_signature_checks(),
    "workspace:case_signature_pdf": [
        Check(kwargs=case_signature_kwargs("individual_case", "client"), get=_TREATING, post=expect(everyone=405)),
        Check(label="partner", kwargs=case_signature_kwargs("couple_case", "partner_b"), get=_TREATING),
        Check(label="not_of_this_case", kwargs=case_signature_kwargs("couple_case", "client"), get=_NOT_OF_THIS_CASE),
        Check(label="other_practice", kwargs=case_signature_kwargs("other_case", "other_client"), get=_OUTSIDE),
    ],
    "portal:my_data": [
        Check(
            get=expect(anonymous=LOGIN, staff=403, clients=200),
            post=expect(anonymous=LOGIN, staff=403, clients=Redirect("portal:my_data")),
            post_writers=frozenset({"client", "partner_a", "partner_b", "other_practice_client"}),
        )
    ],
    "portal:my_data_download": [
        Check(
            kwargs=_export_kwargs("ready"),
            get=expect(anonymous=LOGIN, staff=403, clients=404, client=200),
            post=expect(everyone=405),
        ),
        Check(
            label="expired",
            kwargs=_export_kwargs("expired"),
            get=expect(anonymous=LOGIN, staff=403, clients=404, client=410),
        ),
        Check(label="bogus", kwargs=_export_kwargs("bogus"), get=expect(anonymous=LOGIN, staff=403, clients=404)),
    ],
}
