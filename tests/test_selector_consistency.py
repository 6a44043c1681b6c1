"""The case selectors agree with each other (RELIABILITY.md target 1; Discourse's guardian specs).

``cases_visible_to(user)`` (the list) and ``case_get_for_user(user, id)`` (the single-object check)
are two answers to one question, "may this person open this case?". For every persona and every
case in the world they must give the same answer, and the single-object check must refuse the
right way: 404 for outsiders (the case's existence stays hidden), 403 for insiders of the practice
whose role gives no access to clinical records, 404 for an id that is not an id at all.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from rapport.clients.models import Case
from rapport.clients.selectors import case_get_for_user, cases_visible_to
from tests.personas import PERSONAS, World

CASES = ("individual_case", "couple_case", "other_case")

# ARCHITECTURE.md "Visibility rules": the therapist of a case and the case's own clients.
VISIBLE = {
    "anonymous": set(),
    "admin": set(),
    "therapist_a": {"individual_case", "couple_case"},
    "therapist_b": set(),
    "supervisor": set(),  # supervision needs the case's consent, which no case has given
    "client": {"individual_case"},
    "partner_a": {"couple_case"},
    "partner_b": {"couple_case"},
    "other_practice_client": {"other_case"},
}

# Insiders of the case's practice whose role gives no access to clinical records: 403.
FORBIDDEN = {
    "admin": {"individual_case", "couple_case"},
    "supervisor": {"individual_case", "couple_case"},
}

# Everyone else is an outsider to a case they cannot see: 404.
OUTSIDERS = [
    (persona, case)
    for persona in PERSONAS
    for case in CASES
    if case not in VISIBLE.get(persona, set()) and case not in FORBIDDEN.get(persona, set())
]

MALFORMED_IDS = ["not-a-uuid", "", "123", "0" * 33, "../../etc/passwd", "{00000000-0000-4000-8000-000000000000", "1' OR '1'='1", None]


def _user(world: World, persona: str) -> Any:
    return world.user(persona) or AnonymousUser()


def _opens(user: Any, case_id: Any) -> bool:
    try:
        case_get_for_user(user, case_id)
    except (Http404, PermissionDenied):
        return False
    return True


def test_every_persona_is_declared() -> None:
    assert set(VISIBLE) == set(PERSONAS), f"declare the visible cases of: {sorted(set(PERSONAS) ^ set(VISIBLE))}"


@pytest.mark.parametrize("persona", PERSONAS)
def test_list_and_single_object_check_agree(persona: str, world: World) -> None:
    user = _user(world, persona)
    visible = list(cases_visible_to(user))
    ids = [case.pk for case in visible]
    if len(ids) != len(set(ids)):
        pytest.fail(f"cases_visible_to({persona}) lists a case more than once: {ids}", pytrace=False)
    mismatches = []
    for case in Case.objects.select_related("practice").order_by("pk"):
        listed = case in visible
        for case_id in (case.public_id, str(case.public_id)):
            opens = _opens(user, case_id)
            if listed != opens:
                mismatches.append(
                    f"case {case} ({case.practice.slug}, id as {type(case_id).__name__}): "
                    f"{'listed' if listed else 'not listed'} by cases_visible_to, but case_get_for_user "
                    f"{'opens' if opens else 'refuses'} it"
                )
    if mismatches:
        pytest.fail(f"persona {persona}: " + "; ".join(mismatches), pytrace=False)


@pytest.mark.parametrize("persona", PERSONAS)
def test_visible_cases_follow_the_visibility_rules(persona: str, world: World) -> None:
    visible = set(cases_visible_to(_user(world, persona)))
    expected = {getattr(world, name) for name in VISIBLE[persona]}
    names = {name for name in CASES if getattr(world, name) in visible}
    if visible != expected:
        pytest.fail(f"persona {persona}: cases_visible_to lists {sorted(names)}, expected {sorted(VISIBLE[persona])}", pytrace=False)


@pytest.mark.parametrize(("persona", "which"), OUTSIDERS, ids=[f"{p}-{c}" for p, c in OUTSIDERS])
def test_outsiders_get_404(persona: str, which: str, world: World) -> None:
    case = getattr(world, which)
    try:
        case_get_for_user(_user(world, persona), case.public_id)
    except Http404:
        return
    except PermissionDenied:
        pytest.fail(f"{persona} on {which}: 403 reveals that the case exists; an outsider must get 404", pytrace=False)
    pytest.fail(f"{persona} on {which}: the case was returned; an outsider must get 404", pytrace=False)


FORBIDDEN_PAIRS = [(persona, case) for persona, cases in FORBIDDEN.items() for case in sorted(cases)]


@pytest.mark.parametrize(("persona", "which"), FORBIDDEN_PAIRS, ids=[f"{p}-{c}" for p, c in FORBIDDEN_PAIRS])
def test_insiders_without_the_right_get_403(persona: str, which: str, world: World) -> None:
    case = getattr(world, which)
    try:
        case_get_for_user(_user(world, persona), case.public_id)
    except PermissionDenied:
        return
    except Http404:
        pytest.fail(f"{persona} on {which}: expected 403 (an insider without the right), got 404", pytrace=False)
    pytest.fail(f"{persona} on {which}: the case was returned; expected 403", pytrace=False)


@pytest.mark.parametrize("persona", PERSONAS)
def test_malformed_id_raises_404(persona: str, world: World) -> None:
    user = _user(world, persona)
    wrong = []
    for case_id in MALFORMED_IDS:
        try:
            case_get_for_user(user, case_id)  # type: ignore[arg-type]
        except Http404:
            continue
        except Exception as exc:  # any other outcome is the failure we report
            wrong.append(f"{case_id!r} raised {type(exc).__module__}.{type(exc).__name__}")
        else:
            wrong.append(f"{case_id!r} returned a case")
    if wrong:
        pytest.fail(f"persona {persona}: case_get_for_user with a malformed id must raise Http404: " + "; ".join(wrong), pytrace=False)


@pytest.mark.parametrize("persona", PERSONAS)
def test_unknown_id_raises_404(persona: str, world: World) -> None:
    """An id no case has is 404 for everyone, the admin included: never 403, never a case."""
    user = _user(world, persona)
    for case_id in (uuid.UUID("00000000-0000-4000-8000-000000000000"), uuid.uuid4()):
        with pytest.raises(Http404):
            case_get_for_user(user, case_id)
