"""Authorization matrix rows for the therapist's record-access page (see tests/matrix_declarations.py).

The page names the case's clients, so it is reached through the same door as the case page:
anonymous visitors sign in, clients get the workspace's 403, the practice admin and the supervisor
403 (insiders without clinical access), therapist B and every other practice 404. Only therapist A,
the case's therapist, gets through. The "supervision_consented" variant pins that the supervisor
stays out even when both partners consent to supervision.

Opening the page is not a clinical read (it shows who did what and when, never clinical text), so
no variant declares ``reads_case``; tests/test_workspace_record_access.py pins that nothing is
recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.consenting import sign_all
from tests.matrix_declarations import LOGIN, MISSING_CASE_ID, Check, Outcome, expect
from tests.personas import World

_THERAPIST_A_ONLY = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=200, therapist_b=404)
# Another practice's case, or no case at all: 404 for every member of staff, the admin included.
_NO_SUCH_CASE = expect(anonymous=LOGIN, clients=403, staff=404)


def _case_of(which: str, *, consenting: bool = False) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if which == "missing":
            return {"case_id": MISSING_CASE_ID}
        if consenting:
            for partner in (world.partner_a, world.partner_b):
                sign_all(partner, supervision=True)
        return {"case_id": getattr(world, which).public_id}

    return build


# (label, case, both partners consent to supervision, outcomes)
_VARIANTS: tuple[tuple[str, str, bool, dict[str, Outcome]], ...] = (
    ("", "individual_case", False, _THERAPIST_A_ONLY),
    ("couple", "couple_case", False, _THERAPIST_A_ONLY),
    ("supervision_consented", "couple_case", True, _THERAPIST_A_ONLY),
    ("other_practice", "other_case", False, _NO_SUCH_CASE),
    ("missing", "missing", False, _NO_SUCH_CASE),
)

RECORD_ACCESS_ROUTES: dict[str, list[Check]] = {
    "workspace:case_record_access": [
        Check(
            label=label,
            kwargs=_case_of(which, consenting=consenting),
            get=get,
            post=expect(everyone=405) if not label else None,
        )
        for label, which, consenting, get in _VARIANTS
    ],
}
