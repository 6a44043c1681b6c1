"""Authorization matrix rows for the supervisor's pages (see tests/matrix_declarations.py).

The world's supervisor supervises therapist A, who treats both Harbour cases; no client of the
world has signed a consent form, so by default no case consents to supervision. Variants whose
label says "consented" have the case's clients sign the default form (agreeing to every item)
inside the test's savepoint, through ``kwargs``.

Only the supervisor role gets past the door of the supervision pages; everyone else on staff and
every client is turned away (403) before any lookup. For the supervisor, a case of therapist A
opens only while every client of it consents (403 otherwise: an insider without the right); a
case of a therapist they do not supervise, another practice's case or a missing one is 404.

The existing case pages name the clients, so they stay closed to the supervisor even with the
clients' consent: the "supervision_consented" variants of ``workspace:case_detail``,
``workspace:case_summary``, the intake, the invitation and the signature PDF pin that (403, no
read recorded, nothing written).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.clients.models import Case, CaseStatus
from rapport.clients.services import case_open, client_account_create, client_create
from tests.consenting import sign_all
from tests.matrix_declarations import LOGIN, MISSING_CASE_ID, ROUTES, Check, Outcome, Redirect, expect
from tests.matrix_mydata import MYDATA_ROUTES, case_signature_kwargs
from tests.matrix_onboarding import ONBOARDING_ROUTES, member_ids, pat_wrote_an_intake
from tests.personas import PASSWORD, World

_READ_ONLY = expect(everyone=405)
_OTHER_THERAPIST_CLIENT = "Nico Notsupervised"


def _consenting(world: World, which: str, *, partners: tuple[str, ...] = ("partner_a", "partner_b")) -> None:
    if which == "individual_case":
        sign_all(world.client)
    elif which == "couple_case":
        for partner in partners:
            sign_all(getattr(world, partner))
    elif which == "other_case":
        sign_all(world.other_client)


def _other_therapist_case(world: World) -> Case:
    """A consenting case of therapist B, whom the supervisor does not supervise (made once per savepoint)."""
    existing = Case.objects.filter(primary_therapist=world.therapist_b).first()
    if existing is not None:
        return existing
    client = client_create(actor=None, practice=world.practice, full_name=_OTHER_THERAPIST_CLIENT, email="nico@mail.example")
    client_account_create(actor=None, client=client, password=PASSWORD)
    sign_all(client)
    therapist_b = world.user("therapist_b")
    assert therapist_b is not None
    return case_open(actor=therapist_b, therapist=world.therapist_b, clients=[client], status=CaseStatus.ACTIVE)


def _case_args(which: str, *, consented: bool, partners: tuple[str, ...] = ("partner_a", "partner_b")) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if which == "missing":
            return {"case_id": MISSING_CASE_ID}
        if which == "other_therapist":
            return {"case_id": _other_therapist_case(world).public_id}
        if consented:
            _consenting(world, which, partners=partners)
        return {"case_id": getattr(world, which).public_id}

    return build


def _read(which: str) -> Callable[[World], Any]:
    def get(world: World) -> Any:
        if which == "missing":
            return None
        if which == "other_therapist":
            return Case.objects.filter(primary_therapist=world.therapist_b).first()
        return getattr(world, which)

    return get


def _supervisor_gets(outcome: Outcome) -> dict[str, Outcome]:
    return expect(anonymous=LOGIN, signed_in=403, supervisor=outcome)


# (label, case, consented, partners who consent, what the supervisor gets)
_CASE_VARIANTS: tuple[tuple[str, str, bool, tuple[str, ...], Outcome], ...] = (
    ("", "individual_case", False, (), 403),
    ("consented", "individual_case", True, (), 200),
    ("couple_consented", "couple_case", True, ("partner_a", "partner_b"), 200),
    ("couple_one_partner_consented", "couple_case", True, ("partner_a",), 403),
    ("other_therapist_consented", "other_therapist", True, (), 404),
    ("other_practice_consented", "other_case", True, (), 404),
    ("missing", "missing", False, (), 404),
)


def _named_case_variant(*, summary: bool) -> Check:
    """A case page that names the clients, on the couple's case with both partners consenting:
    still 403 for the supervisor, and (``summary``) their POST writes nothing."""
    get = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=200, therapist_b=404)
    post: dict[str, Outcome] | None = None
    if summary:
        post = {**get, "therapist_a": Redirect("workspace:case_detail", same_args=True)}
    return Check(
        label="supervision_consented",
        kwargs=_case_args("couple_case", consented=True),
        get=get,
        reads_case=_read("couple_case"),
        post=post,
        post_data=(lambda world: {"summary": "Overwritten by the authorization matrix."}) if summary else None,
        post_writers=frozenset({"therapist_a"}) if summary else frozenset(),
    )


def _couple_consents_then(build: Callable[[World], dict[str, Any]]) -> Callable[[World], dict[str, Any]]:
    def kwargs(world: World) -> dict[str, Any]:
        _consenting(world, "couple_case")
        return build(world)

    return kwargs


_NAMED_FOR_THERAPIST_A = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=200, therapist_b=404)


SUPERVISION_ROUTES: dict[str, list[Check]] = {
    "workspace:supervision": [
        Check(get=_supervisor_gets(200), post=_READ_ONLY),
        # With cases listed, the page the leak check reads has content: pseudonyms, never names.
        Check(
            label="consented",
            kwargs=lambda world: (_consenting(world, "individual_case"), _consenting(world, "couple_case"), {})[-1],
            get=_supervisor_gets(200),
        ),
    ],
    "workspace:supervision_case": [
        Check(
            label=label,
            kwargs=_case_args(which, consented=consented, partners=partners),
            get=_supervisor_gets(outcome),
            reads_case=_read(which),
            post=_READ_ONLY if not label else None,
        )
        for label, which, consented, partners, outcome in _CASE_VARIANTS
    ],
    "workspace:case_detail": [*ROUTES["workspace:case_detail"], _named_case_variant(summary=False)],
    "workspace:case_summary": [*ROUTES["workspace:case_summary"], _named_case_variant(summary=True)],
    "workspace:client_intake": [
        *ONBOARDING_ROUTES["workspace:client_intake"],
        Check(label="supervision_consented", kwargs=_couple_consents_then(pat_wrote_an_intake), get=_NAMED_FOR_THERAPIST_A),
    ],
    "workspace:client_invite": [
        *ONBOARDING_ROUTES["workspace:client_invite"],
        Check(
            label="supervision_consented",
            kwargs=_couple_consents_then(lambda world: member_ids(world.couple_case, world.partner_a)),
            get=expect(everyone=405),
            post={**_NAMED_FOR_THERAPIST_A, "therapist_a": Redirect("/workspace/cases/")},
        ),
    ],
    "workspace:case_signature_pdf": [
        *MYDATA_ROUTES["workspace:case_signature_pdf"],
        Check(
            label="supervision_consented",
            kwargs=_couple_consents_then(case_signature_kwargs("couple_case", "partner_b")),
            get=_NAMED_FOR_THERAPIST_A,
        ),
    ],
}
