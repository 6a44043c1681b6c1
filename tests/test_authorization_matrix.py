"""The authorization matrix (RELIABILITY.md "Targets for Rapport", items 1 and 3).

Every named URL pattern, allauth's included, is requested by every persona of tests.personas and
must give the outcome declared in tests/matrix_declarations.py. A pattern without a declaration,
a declaration without a pattern, an unnamed pattern or a persona without an outcome fails. On
top of the status code, every request is checked for:

* data: a GET never changes a row; a refused POST changes no row, writes no audit event of a
  data action and sends no mail;
* leaks: no page names a client the persona may not know of (NAMES_VISIBLE_TO);
* audit: a clinical read leaves exactly one "view" event per client of the case when allowed,
  none when refused.

One world is built per module inside an outer transaction; each test runs in a savepoint that is
rolled back, so every test starts from the same world and the matrix stays fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.test import Client as Browser
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from rapport.audit.models import Action, AuditEvent
from rapport.clients.models import Case
from tests.matrix_declarations import CLIENT_NAMES, LOGIN, NAMES_VISIBLE_TO, ROUTES, Check, Outcome, Redirect
from tests.personas import PASSWORD, PERSONAS, World, build_world

# --- The URLconf ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    name: str | None  # "namespace:name", or None for an unnamed pattern
    route: str  # the full pattern, for messages
    args: frozenset[str]  # the URL arguments it takes, from every level of includes


def walk_urlconf(
    resolver: URLResolver | None = None, *, prefix: str = "", namespace: str | None = None, args: frozenset[str] = frozenset()
) -> Iterator[Pattern]:
    """Every leaf pattern, depth-first, through every include (with or without a namespace)."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        entry_args = args | frozenset(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk_urlconf(entry, prefix=route, namespace=inner, args=entry_args)
        elif isinstance(entry, URLPattern):
            name = (f"{namespace}:{entry.name}" if namespace else entry.name) if entry.name else None
            yield Pattern(name=name, route="/" + route, args=entry_args)
        else:  # pragma: no cover - Django has no third kind today
            raise TypeError(f"Unknown URLconf entry {entry!r} at {route!r}")


PATTERNS = list(walk_urlconf())
NAMED = {p.name: p for p in PATTERNS if p.name is not None}
DECLARATIONS_FILE = "tests/matrix_declarations.py"


# --- Fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """One world for the whole module, inside a transaction rolled back at the end.

    Overrides the function-scoped ``world`` of the root conftest (so its ``client_as`` uses this
    one). Each test still runs in its own savepoint (the ``db`` fixture), rolled back after it.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _isolated(db: None) -> None:
    # allauth's rate limits live in the cache, which no database rollback resets.
    cache.clear()


# --- Checking one response ------------------------------------------------------------------------


def _fail_if(problem: str | None, where: str) -> None:
    if problem:
        pytest.fail(f"{where}: {problem}", pytrace=False)


def _label(name: str, check: Check | None) -> str:
    return f"{name}@{check.label}" if check is not None and check.label else name


def _declaration_problem(name: str, check: Check | None, persona: str, method: str) -> str | None:
    if name not in NAMED:
        return f"{DECLARATIONS_FILE} declares {name!r}, but the URLconf has no pattern of that name: remove the declaration."
    if check is None:
        return (
            f"URL pattern {name!r} ({NAMED[name].route}) has no declaration in {DECLARATIONS_FILE}: "
            "declare what every persona must get from it."
        )
    table = check.get if method == "GET" else check.post
    if table is None or persona not in table:
        return f"{_label(name, check)}: no {method} outcome declared for persona {persona!r} in {DECLARATIONS_FILE}."
    return None


def _redirect_path(target: Redirect, route_kwargs: dict[str, Any]) -> str:
    if target.to.startswith("/"):
        return target.to
    return reverse(target.to, kwargs=route_kwargs if target.same_args else None)


def _outcome_error(response: Any, expected: Outcome, url: str, route_kwargs: dict[str, Any]) -> str | None:
    status = response.status_code
    location = response.get("Location", "")
    got = f"{status} {location}".strip()
    if expected == LOGIN:
        split = urlsplit(location)
        next_url = parse_qs(split.query).get("next", [""])[0]
        if status == 302 and split.path == reverse("account_login") and next_url == url:
            return None
        return f"expected a 302 to the login page with next={url}, got {got}"
    if isinstance(expected, Redirect):
        path = urlsplit(location).path
        wanted = _redirect_path(expected, route_kwargs)
        matches = path.startswith(wanted) if expected.to.startswith("/") else path == wanted
        if status in (302, 303) and matches:
            return None
        return f"expected a 302/303 to {wanted}{'...' if expected.to.startswith('/') else ''} ({expected.to}), got {got}"
    if status != expected:
        return f"expected {expected}, got {got}"
    return None


def _leaked_names(response: Any, persona: str) -> list[str]:
    if getattr(response, "streaming", False) or not response.get("Content-Type", "").startswith("text/"):
        return []
    body = response.content.decode(response.charset or "utf-8", errors="replace")
    return [name for name in CLIENT_NAMES if name not in NAMES_VISIBLE_TO[persona] and name in body]


# Rows that change on any request (sessions, activity tracking, lockout bookkeeping) or are
# checked on their own (the audit trail), and Django's static tables.
_NOT_DATA = {
    "sessions.Session",
    "usersessions.UserSession",
    "axes.AccessAttempt",
    "axes.AccessAttemptExpiration",
    "axes.AccessFailureLog",
    "axes.AccessLog",
    "audit.AuditEvent",
    "contenttypes.ContentType",
    "auth.Permission",
}
# Audit actions that mean data was read, written or handed out (not sign-in bookkeeping).
_DATA_ACTIONS = {str(a) for a in Action} - {Action.LOGIN, Action.LOGIN_FAILED, Action.LOGOUT}


def _data_snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every model that holds data, field by field (decrypted fields included)."""
    snapshot = {}
    for model in apps.get_models():
        label = model._meta.label
        if label in _NOT_DATA:
            continue
        fields = [f.attname for f in model._meta.concrete_fields]
        snapshot[label] = list(model._default_manager.order_by("pk").values_list(*fields))
    return snapshot


def _snapshot_diff(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> str:
    changed = []
    for label in sorted(before):
        old, new = before[label], after[label]
        if old != new:
            changed.append(f"{label}: {len(old)} rows -> {len(new)} rows, {len(set(new) - set(old))} new or changed")
    return "; ".join(changed)


def _last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _view_event_error(world: World, check: Check, persona: str, allowed: bool, since: int) -> str | None:
    assert check.reads_case is not None
    events = list(AuditEvent.objects.filter(id__gt=since, action=Action.VIEW))
    if not allowed:
        if events:
            return f"a refused clinical read left {len(events)} 'view' audit event(s); expected none"
        return None
    case = check.reads_case(world)
    user = world.user(persona)
    members = list(case.members.select_related("client"))
    # A partner's read of the joint case is recorded against their own record only (clients.case_audit).
    own = [m for m in members if user is not None and m.client.user_id == user.pk]
    expected_clients = sorted(str(m.client.public_id) for m in (own or members))
    actual_clients = sorted(str(e.client_id) for e in events)
    if actual_clients != expected_clients:
        return (
            f"expected exactly one 'view' audit event per client of the case, or for the reading client alone ({len(expected_clients)}), "
            f"got {len(events)} for clients {actual_clients} (expected {expected_clients})"
        )
    for event in events:
        if user is None or event.actor_id != user.pk or str(event.object_id) != str(case.public_id) or event.object_type != "clients.case":
            return f"'view' audit event #{event.pk} names actor {event.actor_id}, object {event.object_type} {event.object_id}"
    return None


# --- Parameters ------------------------------------------------------------------------------------


def _matrix_params(method: str) -> list[Any]:
    params = []
    for name in sorted(set(NAMED) | set(ROUTES)):
        checks: list[Check | None] = [*ROUTES[name]] if ROUTES.get(name) else [None]
        for check in checks:
            if method == "POST" and (check is None or check.post is None):
                continue
            for persona in PERSONAS:
                params.append(pytest.param(name, check, persona, id=f"{_label(name, check)}-{persona}"))
    return params


# --- The matrix ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "check", "persona"), _matrix_params("GET"))
def test_route_outcome(name: str, check: Check | None, persona: str, world: World, client_as: Any) -> None:
    problem = _declaration_problem(name, check, persona, "GET")
    if problem:
        pytest.fail(problem, pytrace=False)
    assert check is not None
    route_kwargs = check.kwargs(world)
    url = reverse(name, kwargs=route_kwargs or None)
    where = f"{_label(name, check)} as {persona}: GET {url}"
    browser: Browser = client_as(persona)
    expected = check.get[persona]
    data_before, audit_mark = _data_snapshot(), _last_audit_id()

    response = browser.get(url)

    _fail_if(_outcome_error(response, expected, url, route_kwargs), where)
    if response.status_code == 200 and check.page_check is not None:
        _fail_if(check.page_check(cast(HttpResponse, response)), where)
    if leaked := _leaked_names(response, persona):
        _fail_if(f"the page names client(s) this persona may not know of: {leaked}", where)
    if changed := _snapshot_diff(data_before, _data_snapshot()):
        _fail_if(f"a GET changed data: {changed}", where)
    if check.reads_case is not None:
        _fail_if(_view_event_error(world, check, persona, expected == 200, audit_mark), where)


@pytest.mark.parametrize(("name", "check", "persona"), _matrix_params("POST"))
def test_post_outcome(name: str, check: Check, persona: str, world: World, client_as: Any) -> None:
    problem = _declaration_problem(name, check, persona, "POST")
    if problem:
        pytest.fail(problem, pytrace=False)
    assert check.post is not None
    route_kwargs = check.kwargs(world)
    url = reverse(name, kwargs=route_kwargs or None)
    where = f"{_label(name, check)} as {persona}: POST {url}"
    browser: Browser = client_as(persona)
    data = check.post_data(world) if check.post_data is not None else {}
    data_before, audit_mark, mails_before = _data_snapshot(), _last_audit_id(), len(mail.outbox)

    response = browser.post(url, data)

    _fail_if(_outcome_error(response, check.post[persona], url, route_kwargs), where)
    if leaked := _leaked_names(response, persona):
        _fail_if(f"the page names client(s) this persona may not know of: {leaked}", where)
    if persona in check.post_writers:
        return
    if changed := _snapshot_diff(data_before, _data_snapshot()):
        _fail_if(f"a refused POST changed data: {changed}", where)
    events = list(AuditEvent.objects.filter(id__gt=audit_mark, action__in=_DATA_ACTIONS).values_list("action", flat=True))
    if events:
        _fail_if(f"a refused POST left audit event(s) {events}", where)
    if len(mail.outbox) != mails_before:
        _fail_if(f"a refused POST sent mail: {[m.subject for m in mail.outbox[mails_before:]]}", where)


# --- The matrix covers the URLconf, and the table is well-formed ---------------------------------------


def test_every_url_pattern_is_named() -> None:
    unnamed = [p.route for p in PATTERNS if p.name is None]
    assert not unnamed, f"Unnamed URL patterns cannot be declared in the authorization matrix; name them: {unnamed}"


def test_url_names_are_unique() -> None:
    seen: dict[str, list[str]] = {}
    for p in PATTERNS:
        if p.name is not None:
            seen.setdefault(p.name, []).append(p.route)
    duplicated = {name: routes for name, routes in seen.items() if len(routes) > 1}
    assert not duplicated, f"URL names used by more than one pattern (the matrix could only test one of each): {duplicated}"


def test_every_url_pattern_is_declared() -> None:
    missing = sorted(set(NAMED) - set(ROUTES))
    assert not missing, f"URL patterns without a declaration in {DECLARATIONS_FILE}: " + ", ".join(
        f"{name} ({NAMED[name].route})" for name in missing
    )


def test_every_declaration_has_a_url_pattern() -> None:
    stale = sorted(set(ROUTES) - set(NAMED))
    assert not stale, f"Declarations in {DECLARATIONS_FILE} for URL names that no longer exist: {stale}"


def test_declarations_are_complete_and_consistent() -> None:
    problems = []
    everyone = set(PERSONAS)
    for name, checks in ROUTES.items():
        if not checks:
            problems.append(f"{name}: no checks")
            continue
        labels = [c.label for c in checks]
        if labels[0] != "" or len(set(labels)) != len(labels):
            problems.append(f"{name}: variant labels must be unique and the first one empty, got {labels}")
        for check in checks:
            where = _label(name, check)
            for method, table in (("GET", check.get), ("POST", check.post)):
                if table is None:
                    continue
                if missing := everyone - set(table):
                    problems.append(f"{where}: no {method} outcome for {sorted(missing)}")
                if unknown := set(table) - everyone:
                    problems.append(f"{where}: {method} outcome for unknown persona(s) {sorted(unknown)}")
            if check.post_writers - set(check.post or {}):
                problems.append(f"{where}: post_writers without a POST outcome")
    assert not problems, "Malformed declarations:\n" + "\n".join(problems)


def test_declared_arguments_fit_each_pattern(world: World) -> None:
    problems = []
    for name, checks in ROUTES.items():
        if name not in NAMED:
            continue
        for check in checks:
            given = set(check.kwargs(world))
            if given != NAMED[name].args:
                problems.append(f"{_label(name, check)}: pattern takes {sorted(NAMED[name].args)}, declaration gives {sorted(given)}")
    assert not problems, "\n".join(problems)


# --- Authorised writes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["individual_case", "couple_case"])
def test_treating_therapist_saves_the_summary(which: str, world: World, client_as: Any) -> None:
    case = getattr(world, which)
    url = reverse("workspace:case_summary", kwargs={"case_id": case.public_id})

    response = client_as("therapist_a").post(url, {"summary": "A new working summary."})

    assert response.status_code == 302, f"POST {url} as therapist_a: expected 302, got {response.status_code}"
    assert response["Location"] == reverse("workspace:case_detail", kwargs={"case_id": case.public_id})
    assert Case.objects.get(pk=case.pk).summary == "A new working summary."


@pytest.mark.parametrize("which", ["individual_case", "couple_case"])
def test_clinical_write_leaves_one_audit_event_per_client(which: str, world: World, client_as: Any) -> None:
    """RELIABILITY.md target 3: a clinical write request leaves exactly one audit event (per client)."""
    case = getattr(world, which)
    url = reverse("workspace:case_summary", kwargs={"case_id": case.public_id})
    mark = _last_audit_id()

    client_as("therapist_a").post(url, {"summary": "A new working summary."})

    events = list(AuditEvent.objects.filter(id__gt=mark, action__in=_DATA_ACTIONS).order_by("id"))
    members = sorted(str(m.client.public_id) for m in case.members.select_related("client"))
    got = [(e.action, str(e.client_id)) for e in events]
    if sorted(got) != sorted((Action.UPDATE.value, c) for c in members):
        pytest.fail(
            f"workspace:case_summary@{which} as therapist_a: POST {url}: expected exactly one 'update' audit event per client "
            f"of the case and nothing else, got {got}",
            pytrace=False,
        )


def _reauthenticate(browser: Browser) -> None:
    response = browser.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302, f"re-authentication failed: {response.status_code}"


def test_admin_invites_staff_after_reauthenticating(world: World, client_as: Any) -> None:
    from rapport.practice.models import StaffInvitation

    browser = client_as("admin")
    _reauthenticate(browser)
    response = browser.post(
        reverse("workspace:staff_invite"), {"full_name": "Nell Newcomer", "email": "nell@harbour.example", "role": "therapist"}
    )
    where = "workspace:staff_invite as a re-authenticated admin"
    assert response.status_code == 302, f"{where}: expected 302, got {response.status_code}"
    assert response["Location"] == reverse("workspace:staff"), f"{where}: redirected to {response['Location']}"
    assert StaffInvitation.objects.filter(email="nell@harbour.example", practice=world.practice).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("persona", ["therapist_a", "supervisor", "client"])
def test_reauthenticating_does_not_let_others_invite_staff(persona: str, world: World, client_as: Any) -> None:
    from rapport.practice.models import StaffInvitation

    browser = client_as(persona)
    _reauthenticate(browser)
    response = browser.post(
        reverse("workspace:staff_invite"), {"full_name": "Nell Newcomer", "email": "nell@harbour.example", "role": "practice_admin"}
    )
    assert response.status_code == 403, f"workspace:staff_invite as re-authenticated {persona}: expected 403, got {response.status_code}"
    assert not StaffInvitation.objects.filter(email="nell@harbour.example").exists()
    assert not mail.outbox


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_from_the_same_world(run: int, world: World) -> None:
    """The harness itself: whichever of the two runs second must not see the first one's write."""
    from rapport.clients.models import Client

    assert Client.objects.count() == 4, "a previous test's writes leaked into this one: the savepoint was not rolled back"
    Client.objects.create(practice=world.practice, full_name=f"Temporary {run}", email=f"temp{run}@mail.example", time_zone="UTC")
