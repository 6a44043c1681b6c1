"""Authorization matrix rows for check-in results (see tests/matrix_declarations.py for the vocabulary).

The client's results page takes no id: each client gets their own (200), staff the portal's 403.
The therapist's pages name the case's clients: therapist A (treating) gets them; therapist B and
every member of staff of another practice 404; the practice admin and the supervisor 403 (named
pages are never for the supervisor); clients the workspace's 403. The results page is a clinical
read recorded as one "view" of the case per client (``reads_case``).

A check-in's answers are found under their own case only: Cora's check-in asked under the couple's
case is 404 even to therapist A. The FHIR export takes a client's id, which must be a client of the
case: Pat under Cora's case is 404. The check-ins are made by the ``kwargs`` functions
(tests/results.py), inside each test's savepoint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.measures.models import Administration
from tests.consenting import sign_all
from tests.matrix_declarations import (
    _CASE_VARIANTS,
    LOGIN,
    MISSING_CASE_ID,
    Check,
    Outcome,
    _case,
    _case_kwargs,
    _workspace_case_outcomes,
    expect,
)
from tests.personas import World
from tests.results import phq9, sent, when

_NOT_FOUND_TO_STAFF = expect(anonymous=LOGIN, clients=403, staff=404)


def _cora_checkin(world: World) -> Administration:
    existing = Administration.objects.filter(client=world.client, instrument_key="phq9").first()
    return existing or sent(world.client, world.individual_case, "phq9", phq9(12), when(3, 3))


def _olive_checkin(world: World) -> Administration:
    existing = Administration.objects.filter(client=world.other_client).first()
    return existing or sent(world.other_client, world.other_case, "phq9", phq9(12), when(3, 3))


def _checkin_kwargs(which: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if which == "own":
            return {"case_id": world.individual_case.public_id, "checkin_id": _cora_checkin(world).public_id}
        if which == "under_other_case":
            return {"case_id": world.couple_case.public_id, "checkin_id": _cora_checkin(world).public_id}
        if which == "other_practice":
            return {"case_id": world.other_case.public_id, "checkin_id": _olive_checkin(world).public_id}
        return {"case_id": world.individual_case.public_id, "checkin_id": MISSING_CASE_ID}

    return build


def _checkin_outcomes(which: str) -> dict[str, Outcome]:
    if which == "own":
        return _workspace_case_outcomes("individual_case")
    if which in ("under_other_case", "missing"):
        # The case is therapist A's, so the answer is the check-in's: not in this case.
        return expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_b=404, therapist_a=404)
    return _NOT_FOUND_TO_STAFF


_FHIR_VARIANTS: dict[str, tuple[str, str]] = {
    # label: (case attribute, client attribute)
    "": ("individual_case", "client"),
    "couple": ("couple_case", "partner_a"),
    "client_not_in_case": ("individual_case", "partner_a"),
    "other_practice": ("other_case", "other_client"),
}


def _fhir_kwargs(case: str, client: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        return {"case_id": getattr(world, case).public_id, "client_id": getattr(world, client).public_id}

    return build


def _fhir_outcomes(label: str) -> dict[str, Outcome]:
    if label in ("", "couple"):
        return _workspace_case_outcomes("individual_case")
    if label == "client_not_in_case":
        return expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_b=404, therapist_a=404)
    return _NOT_FOUND_TO_STAFF


def _couple_consenting_to_supervision(world: World) -> dict[str, Any]:
    for partner in (world.partner_a, world.partner_b):
        sign_all(partner)
    return {"case_id": world.couple_case.public_id}


RESULTS_ROUTES: dict[str, list[Check]] = {
    "portal:results": [Check(get=expect(anonymous=LOGIN, staff=403, clients=200), post=expect(everyone=405))],
    "workspace:case_measures": [
        Check(
            label=label,
            kwargs=_case_kwargs(which),
            get=_workspace_case_outcomes(which),
            reads_case=_case(which),
            post=expect(everyone=405) if not label else None,
        )
        for label, which in _CASE_VARIANTS
    ]
    + [
        # Both partners consent to supervision: the named results page is still not the supervisor's.
        Check(
            label="supervision_consented",
            kwargs=_couple_consenting_to_supervision,
            get=_workspace_case_outcomes("couple_case"),
            reads_case=_case("couple_case"),
        )
    ],
    "workspace:case_checkin": [
        Check(
            label=label,
            kwargs=_checkin_kwargs(which),
            get=_checkin_outcomes(which),
            post=expect(everyone=405) if not label else None,
        )
        for label, which in (
            ("", "own"),
            ("under_other_case", "under_other_case"),
            ("other_practice", "other_practice"),
            ("missing", "missing"),
        )
    ],
    "workspace:client_fhir": [
        Check(
            label=label,
            kwargs=_fhir_kwargs(case, client),
            get=_fhir_outcomes(label),
            post=expect(everyone=405) if not label else None,
        )
        for label, (case, client) in _FHIR_VARIANTS.items()
    ],
}
