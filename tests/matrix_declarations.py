"""The authorization matrix: what every persona must get from every named URL pattern.

Read by tests/test_authorization_matrix.py, which walks the whole URLconf and fails on any named
pattern without a declaration here, and on any declaration whose pattern no longer exists.

The table states the *design* (ARCHITECTURE.md "Visibility rules", RELIABILITY.md targets 1, 3 and
4), not whatever the code happens to do: a row that fails is a bug to fix in the app, not a row to
edit. Outsiders (another practice, a therapist not treating the case, a client not in the case)
get 404; insiders whose role gives no access to clinical records (practice admin, a supervisor
without consent) get 403; anonymous visitors are sent to the login page. A role that a whole UI
is not meant for (staff in the client portal, clients in the staff workspace) gets 403 before any
lookup, so the answer never depends on whether the object exists.

Outcomes:
    200, 403, 404, 405      that status code
    LOGIN                   302 to the login page, with ``next`` pointing back at the requested URL
    Redirect(to)            302/303 to the URL named ``to`` (exact path) or, if ``to`` starts
                            with "/", to a path starting with it

Each route maps to one or more ``Check``s, one per set of URL arguments ("variant"); the first
variant has the empty label, the others show up in test ids as ``route@label-persona``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpResponse

from tests.personas import World

LOGIN = "login"
# A well-formed id that no case has: the answer to it must not differ from "not yours".
MISSING_CASE_ID = uuid.UUID("00000000-0000-4000-8000-000000000000")
BOGUS_KEY = "bogus-key-0000"
BOGUS_TOKEN = "bogus-invitation-token-0000"
BOGUS_PK = 999_999


@dataclass(frozen=True)
class Redirect:
    """302/303 to the named URL (exact path; with the route's own arguments if ``same_args``) or a path prefix."""

    to: str
    same_args: bool = False

    def __str__(self) -> str:
        return f"redirect to {self.to}"


Outcome = int | str | Redirect

# Groups are spelled out rather than derived from tests.personas.PERSONAS, so that a persona added
# there later has no declaration until someone decides what it should get.
STAFF = ("admin", "therapist_a", "therapist_b", "supervisor")
CLIENTS = ("client", "partner_a", "partner_b", "other_practice_client")
SIGNED_IN = STAFF + CLIENTS
EVERYONE = ("anonymous", *SIGNED_IN)

# Whose names a persona may ever see on any page (the leak check on every 200 response).
# Client names are the identifiers of a clinical record: therapist A treats all three Harbour
# clients; the partners of a couple see each other as members of their joint case.
CLIENT_NAMES = ("Cora Client", "Pat Partner", "Quinn Partner", "Olive Outsider")
NAMES_VISIBLE_TO: dict[str, frozenset[str]] = {
    "anonymous": frozenset(),
    "admin": frozenset(),
    "therapist_a": frozenset({"Cora Client", "Pat Partner", "Quinn Partner"}),
    "therapist_b": frozenset(),
    "supervisor": frozenset(),
    "client": frozenset({"Cora Client"}),
    "partner_a": frozenset({"Pat Partner", "Quinn Partner"}),
    "partner_b": frozenset({"Pat Partner", "Quinn Partner"}),
    "other_practice_client": frozenset({"Olive Outsider"}),
}


def expect(
    *,
    everyone: Outcome | None = None,
    anonymous: Outcome | None = None,
    signed_in: Outcome | None = None,
    staff: Outcome | None = None,
    clients: Outcome | None = None,
    **persona: Outcome,
) -> dict[str, Outcome]:
    """Expand group defaults into one outcome per persona; later, narrower arguments win."""
    table: dict[str, Outcome] = {}
    for group, outcome in (
        (EVERYONE, everyone),
        (SIGNED_IN, signed_in),
        (("anonymous",), anonymous),
        (STAFF, staff),
        (CLIENTS, clients),
    ):
        if outcome is not None:
            table.update(dict.fromkeys(group, outcome))
    table.update(persona)
    return table


# A workspace page that names a case's clients (the treatment plan, the signals): only the case's
# therapist reads it, in each variant of the case below; another practice's case and a missing one
# are 404 to all staff. "couple_consenting" is the couple's case with both partners consenting to
# supervision, which still gives the supervisor 403 (supervision is without names).
NAMED_CASE_PAGE = expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=200, therapist_b=404)
NO_SUCH_CASE = expect(anonymous=LOGIN, clients=403, staff=404)
NAMED_CASE_VARIANTS = (
    ("", "individual_case"),
    ("couple", "couple_case"),
    ("supervision_consented", "couple_consenting"),
    ("other_practice", "other_case"),
    ("missing", "missing"),
)


def named_case_outcomes(which: str) -> dict[str, Outcome]:
    return NAMED_CASE_PAGE if which in ("individual_case", "couple_case", "couple_consenting") else NO_SUCH_CASE


def world_case(which: str) -> str:
    """The World attribute of a variant's case."""
    return "couple_case" if which == "couple_consenting" else which


def _no_args(world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Check:
    get: Mapping[str, Outcome]
    kwargs: Callable[[World], dict[str, Any]] = _no_args
    label: str = ""
    # POST outcomes for routes that change state (or to pin that a read-only page refuses POST).
    post: Mapping[str, Outcome] | None = None
    post_data: Callable[[World], dict[str, Any]] | None = None
    # Personas whose POST is authorised and may change data; every other POST must change nothing.
    post_writers: frozenset[str] = frozenset()
    # Clinical reads: the case whose read must leave one "view" audit event per client when
    # allowed, and none when refused. A callable returning None: no such case (nothing to read).
    reads_case: Callable[[World], Any] | None = None
    # Extra checks of a 200 page (e.g. "this is the invalid-link page"): returns an error or None.
    page_check: Callable[[HttpResponse], str | None] | None = None
    notes: str = field(default="", compare=False)


def _case_kwargs(which: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        case_id = MISSING_CASE_ID if which == "missing" else getattr(world, which).public_id
        return {"case_id": case_id}

    return build


def _case(which: str) -> Callable[[World], Any]:
    def get(world: World) -> Any:
        return None if which == "missing" else getattr(world, which)

    return get


_CASE_VARIANTS = (
    ("", "individual_case"),
    ("couple", "couple_case"),
    ("other_practice", "other_case"),
    ("missing", "missing"),
)


def _portal_case_checks() -> list[Check]:
    by_variant = {
        "individual_case": expect(anonymous=LOGIN, staff=403, clients=404, client=200),
        "couple_case": expect(anonymous=LOGIN, staff=403, clients=404, partner_a=200, partner_b=200),
        "other_case": expect(anonymous=LOGIN, staff=403, clients=404, other_practice_client=200),
        "missing": expect(anonymous=LOGIN, staff=403, clients=404),
    }
    return [
        Check(
            label=label,
            kwargs=_case_kwargs(which),
            get=by_variant[which],
            reads_case=_case(which),
            post=expect(everyone=405) if not label else None,
        )
        for label, which in _CASE_VARIANTS
    ]


def _workspace_case_outcomes(which: str) -> dict[str, Outcome]:
    if which in ("individual_case", "couple_case"):
        return expect(anonymous=LOGIN, clients=403, admin=403, supervisor=403, therapist_a=200, therapist_b=404)
    # Another practice's case, or no case at all: 404 for every member of staff, the admin included.
    return expect(anonymous=LOGIN, clients=403, staff=404)


def _workspace_case_checks(*, summary: bool) -> list[Check]:
    checks = []
    for label, which in _CASE_VARIANTS:
        get = _workspace_case_outcomes(which)
        post: dict[str, Outcome] | None
        writers: frozenset[str] = frozenset()
        if summary:
            post = dict(get)
            if get["therapist_a"] == 200:
                post["therapist_a"] = Redirect("workspace:case_detail", same_args=True)
                writers = frozenset({"therapist_a"})
        else:
            post = expect(everyone=405) if not label else None
        checks.append(
            Check(
                label=label,
                kwargs=_case_kwargs(which),
                get=get,
                reads_case=_case(which),
                post=post,
                post_data=(lambda world: {"summary": "Overwritten by the authorization matrix."}) if summary else None,
                post_writers=writers,
            )
        )
    return checks


def _context_is(key: str, value: Any) -> Callable[[HttpResponse], str | None]:
    def check(response: HttpResponse) -> str | None:
        context = getattr(response, "context", None)
        actual = context.get(key, "<absent>") if context is not None else "<no context>"
        return None if actual == value else f"expected context[{key!r}] == {value!r}, got {actual!r}"

    return check


def _template_used(name: str) -> Callable[[HttpResponse], str | None]:
    def check(response: HttpResponse) -> str | None:
        used = [t.name for t in getattr(response, "templates", [])]
        return None if name in used else f"expected template {name!r}, rendered {used!r}"

    return check


_NEW_PASSWORD = "a-brand-new-long-passphrase-42"
_REAUTH = Redirect("account_reauthenticate")
_READ_ONLY = expect(everyone=405)

ROUTES: dict[str, list[Check]] = {
    # --- allauth: account -------------------------------------------------------------------
    "account_login": [Check(get=expect(anonymous=200, signed_in=Redirect("accounts:home")))],
    "account_logout": [
        Check(
            get=expect(anonymous=Redirect("site:home"), signed_in=200),
            post=expect(everyone=Redirect("site:home")),
        )
    ],
    "account_inactive": [Check(get=expect(everyone=200))],
    "account_signup": [
        # Sign-up is closed (staff by invitation, clients through their therapist).
        Check(
            get=expect(anonymous=200, signed_in=Redirect("accounts:home")),
            page_check=_template_used("account/signup_closed.html"),
            post=expect(anonymous=200, signed_in=Redirect("accounts:home")),
            post_data=lambda world: {"email": "newcomer@mail.example", "password1": _NEW_PASSWORD, "password2": _NEW_PASSWORD},
        )
    ],
    "account_reauthenticate": [Check(get=expect(anonymous=LOGIN, signed_in=200))],
    "account_email": [
        # Adding an address is an email change: it needs a re-authentication within the last
        # 10 minutes (RELIABILITY.md target 4). Staff accounts are MFA-protected, where allauth
        # refuses to add an address at all (the form answers 200 with an error).
        Check(
            get=expect(anonymous=LOGIN, signed_in=200),
            post=expect(anonymous=LOGIN, staff=200, clients=_REAUTH),
            post_data=lambda world: {"action_add": "", "email": "second-address@mail.example"},
        )
    ],
    "account_email_verification_sent": [Check(get=expect(everyone=200))],
    "account_change_password": [
        # Without the current password nothing changes.
        Check(
            get=expect(anonymous=LOGIN, signed_in=200),
            post=expect(anonymous=LOGIN, signed_in=200),
            post_data=lambda world: {"oldpassword": "not-the-password-at-all", "password1": _NEW_PASSWORD, "password2": _NEW_PASSWORD},
        )
    ],
    "account_set_password": [
        # Every persona already has a password: "set" sends them to "change".
        Check(
            get=expect(anonymous=LOGIN, signed_in=Redirect("account_change_password")),
            post=expect(anonymous=LOGIN, signed_in=Redirect("account_change_password")),
            post_data=lambda world: {"password1": _NEW_PASSWORD, "password2": _NEW_PASSWORD},
        )
    ],
    "account_reset_password": [Check(get=expect(everyone=200))],
    # No login-by-code is pending: back to the login page (signed in: home).
    "account_confirm_login_code": [Check(get=expect(anonymous=Redirect("account_login"), signed_in=Redirect("accounts:home")))],
    "account_confirm_email": [
        # A bogus key: the "invalid or expired link" page; confirming it (POST) is a 404.
        Check(
            kwargs=lambda world: {"key": BOGUS_KEY},
            get=expect(everyone=200),
            page_check=_context_is("confirmation", None),
            post=expect(everyone=404),
        )
    ],
    "account_reset_password_from_key_done": [Check(get=expect(everyone=200))],
    "account_reset_password_from_key": [
        # A bogus key: the "bad token" page, and a POST changes no password.
        Check(
            kwargs=lambda world: {"uidb36": "zz", "key": BOGUS_KEY},
            get=expect(everyone=200),
            page_check=_context_is("token_fail", True),
            post=expect(everyone=200),
            post_data=lambda world: {"password1": _NEW_PASSWORD, "password2": _NEW_PASSWORD},
        )
    ],
    "account_reset_password_done": [Check(get=expect(everyone=200))],
    # --- allauth: MFA -----------------------------------------------------------------------------
    "mfa_index": [Check(get=expect(anonymous=LOGIN, signed_in=200))],
    # No login is waiting for its second factor.
    "mfa_authenticate": [Check(get=expect(anonymous=Redirect("account_login"), signed_in=Redirect("accounts:home")))],
    # Staff have TOTP and re-authenticate with it; clients have no second factor: password.
    "mfa_reauthenticate": [Check(get=expect(anonymous=LOGIN, staff=200, clients=_REAUTH))],
    # Every MFA change needs a fresh re-authentication first (RELIABILITY.md target 4).
    "mfa_activate_totp": [
        Check(
            get=expect(anonymous=LOGIN, signed_in=_REAUTH),
            post=expect(anonymous=LOGIN, signed_in=_REAUTH),
            post_data=lambda world: {"code": "123456"},
        )
    ],
    "mfa_deactivate_totp": [
        # Clients have no TOTP to deactivate.
        Check(get=expect(anonymous=LOGIN, staff=_REAUTH, clients=404), post=expect(anonymous=LOGIN, staff=_REAUTH, clients=404))
    ],
    # Nobody in the world has recovery codes yet.
    "mfa_view_recovery_codes": [Check(get=expect(anonymous=LOGIN, signed_in=404))],
    "mfa_generate_recovery_codes": [Check(get=expect(anonymous=LOGIN, signed_in=_REAUTH), post=expect(anonymous=LOGIN, signed_in=_REAUTH))],
    "mfa_download_recovery_codes": [Check(get=expect(anonymous=LOGIN, signed_in=404))],
    "mfa_list_webauthn": [Check(get=expect(anonymous=LOGIN, signed_in=200))],
    "mfa_add_webauthn": [Check(get=expect(anonymous=LOGIN, signed_in=_REAUTH), post=expect(anonymous=LOGIN, signed_in=_REAUTH))],
    # Nobody has a security key: back to password re-authentication.
    "mfa_reauthenticate_webauthn": [Check(get=expect(anonymous=LOGIN, signed_in=_REAUTH))],
    "mfa_remove_webauthn": [
        Check(
            kwargs=lambda world: {"pk": BOGUS_PK},
            get=expect(anonymous=LOGIN, signed_in=_REAUTH),
            post=expect(anonymous=LOGIN, signed_in=_REAUTH),
        )
    ],
    "mfa_edit_webauthn": [
        Check(
            kwargs=lambda world: {"pk": BOGUS_PK},
            get=expect(anonymous=LOGIN, signed_in=_REAUTH),
            post=expect(anonymous=LOGIN, signed_in=_REAUTH),
            post_data=lambda world: {"name": "renamed"},
        )
    ],
    # --- allauth: user sessions ("sign out everywhere") --------------------------------------------
    "usersessions_list": [
        Check(get=expect(anonymous=LOGIN, signed_in=200), post=expect(anonymous=LOGIN, signed_in=Redirect("usersessions_list")))
    ],
    # --- Rapport ------------------------------------------------------------------------------------
    "accounts:home": [
        Check(get=expect(anonymous=LOGIN, staff=Redirect("workspace:home"), clients=Redirect("portal:home"))),
    ],
    "portal:case_detail": _portal_case_checks(),
    "workspace:home": [Check(get=expect(anonymous=LOGIN, staff=200, clients=403), post=_READ_ONLY)],
    "workspace:case_list": [Check(get=expect(anonymous=LOGIN, staff=403, clients=403, therapist_a=200, therapist_b=200), post=_READ_ONLY)],
    "workspace:case_detail": _workspace_case_checks(summary=False),
    "workspace:case_summary": _workspace_case_checks(summary=True),
    "workspace:staff": [Check(get=expect(anonymous=LOGIN, signed_in=403, admin=200), post=_READ_ONLY)],
    "workspace:staff_invite": [
        # POST only. The admin must re-authenticate first (tested on its own in the matrix module).
        Check(
            get=expect(everyone=405),
            post=expect(anonymous=LOGIN, signed_in=403, admin=_REAUTH),
            post_data=lambda world: {"full_name": "Nell Newcomer", "email": "nell@harbour.example", "role": "therapist"},
        )
    ],
    "workspace:staff_access": [
        # POST only; the admin must re-authenticate first. Another practice's staff member is 404.
        Check(
            kwargs=lambda world: {"user_id": world.user("therapist_b").public_id},
            get=expect(everyone=405),
            post=expect(anonymous=LOGIN, signed_in=403, admin=_REAUTH),
            post_data=lambda world: {"active": "0"},
        ),
        Check(
            label="other_practice",
            kwargs=lambda world: {"user_id": world.user("other_practice_client").public_id},
            get=expect(everyone=405),
            post=expect(anonymous=LOGIN, signed_in=403, admin=_REAUTH),
            post_data=lambda world: {"active": "0"},
        ),
    ],
    "workspace:staff_invitation_revoke": [
        # POST only. No pending invitation has this id: the admin gets 404, everyone else no further.
        Check(
            kwargs=lambda world: {"invitation_id": MISSING_CASE_ID},
            get=expect(everyone=405),
            post=expect(anonymous=LOGIN, signed_in=403, admin=404),
        )
    ],
    "workspace:audit_trail": [Check(get=expect(anonymous=LOGIN, signed_in=403, admin=200), post=_READ_ONLY)],
    "workspace:invitation_accept": [
        # A bogus token: the "invalid invitation" page with 404, and no account is created.
        Check(
            kwargs=lambda world: {"token": BOGUS_TOKEN},
            get=expect(everyone=404),
            post=expect(everyone=404),
            post_data=lambda world: {"full_name": "Mallory", "password1": _NEW_PASSWORD, "password2": _NEW_PASSWORD},
        )
    ],
    "site:home": [Check(get=expect(everyone=200), post=_READ_ONLY)],
    "site:healthz": [Check(get=expect(everyone=200), post=_READ_ONLY)],
}

# Booking (public site), the therapist's calendar and the client portal declare their routes in modules
# of their own; they build on the helpers above, so they are imported last.
from tests.matrix_alerts import ALERT_ROUTES  # noqa: E402
from tests.matrix_booking import BOOKING_ROUTES  # noqa: E402
from tests.matrix_briefing import BRIEFING_ROUTES  # noqa: E402
from tests.matrix_calendar import CALENDAR_ROUTES  # noqa: E402
from tests.matrix_checkin_controls import CHECKIN_CONTROL_ROUTES  # noqa: E402
from tests.matrix_checkins import CHECKIN_ROUTES  # noqa: E402
from tests.matrix_consents import CONSENT_ROUTES  # noqa: E402
from tests.matrix_goal_progress import GOAL_PROGRESS_ROUTES  # noqa: E402
from tests.matrix_mydata import MYDATA_ROUTES  # noqa: E402
from tests.matrix_onboarding import ONBOARDING_ROUTES  # noqa: E402
from tests.matrix_plans_portal import PLAN_PORTAL_ROUTES  # noqa: E402
from tests.matrix_plans_workspace import PLAN_WORKSPACE_ROUTES  # noqa: E402
from tests.matrix_portal import PORTAL_ROUTES  # noqa: E402
from tests.matrix_record_access import RECORD_ACCESS_ROUTES  # noqa: E402
from tests.matrix_results import RESULTS_ROUTES  # noqa: E402
from tests.matrix_signals import SIGNAL_ROUTES  # noqa: E402
from tests.matrix_supervision import SUPERVISION_ROUTES  # noqa: E402

ROUTES.update(ALERT_ROUTES)
ROUTES.update(BOOKING_ROUTES)
ROUTES.update(BRIEFING_ROUTES)
ROUTES.update(CALENDAR_ROUTES)
ROUTES.update(CHECKIN_ROUTES)
ROUTES.update(CHECKIN_CONTROL_ROUTES)
ROUTES.update(CONSENT_ROUTES)
ROUTES.update(GOAL_PROGRESS_ROUTES)
ROUTES.update(ONBOARDING_ROUTES)
ROUTES.update(MYDATA_ROUTES)
ROUTES.update(PLAN_PORTAL_ROUTES)
ROUTES.update(PLAN_WORKSPACE_ROUTES)
ROUTES.update(PORTAL_ROUTES)
ROUTES.update(RECORD_ACCESS_ROUTES)
ROUTES.update(RESULTS_ROUTES)
ROUTES.update(SIGNAL_ROUTES)
# Also extends the case pages with a variant where the clients consent to supervision.
ROUTES.update(SUPERVISION_ROUTES)
