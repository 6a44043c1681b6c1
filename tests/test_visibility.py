"""ARCHITECTURE.md "Visibility rules", as a table: who sees what of a couple's case today.

Each ``Row`` is one item of the table; each ``Column`` one kind of viewer. A row says, for every
column, what that viewer gets, and how to find out (``probe``): the probe asks the real pages, the
way the viewer would, and answers in the words of the cells below. Adding an item is one entry in
``ROWS``.

Every row is about the couple's case of the personas' world and, where an item belongs to one
partner, about partner A's: "client" is partner A, "the other partner" is partner B. Both partners
have signed the practice's consent form, saying no to supervision, except in the "supervisor with
consent" column, where both said yes (a couple's case consents only when both partners do).

Items that do not exist yet are pinned by the issue that builds them, as rows here:

* joint plan, joint goals;
* a partner's check-in answers;
* journal entries, private and shared;
* progress notes and psychotherapy notes;
* messages.

No portal URL takes a client's id: each portal page works on the signed-in client's own record.
The workspace routes that do (the intake, the invitation) are the case's therapist's and are
declared in ``CLIENT_ID_ROUTES`` with the row that pins them (``test_no_client_page_takes_a_client_id``).
Ids a portal URL does take (a signature, an export link) belong to one client, and the other
partner's guess is 404 (rows ``partner_signature`` and ``partner_export``). Guessing another
case's URL is 404, pinned per route by the authorization matrix (tests/matrix_declarations.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from rapport.clients.intake import intake_save
from rapport.clients.services import case_update_summary
from rapport.consents.models import Signature
from rapport.consents.services import consent_withdraw
from rapport.plans.selectors import plan_for_viewer
from rapport.plans.services import plan_propose_goal
from rapport.portal.models import DataExport
from rapport.portal.services import export_build, export_request
from rapport.practice.models import ServiceKind
from tests.consenting import sign_all
from tests.personas import World
from tests.results import PAT_NOTE, sent, when
from tests.sessions import book
from tests.test_authorization_matrix import PATTERNS

# What a viewer gets. The HTTP answer is part of the cell: an outsider's 404 hides that the item
# exists; an insider without the right gets 403.
YES = "yes"
NAMELESS = "yes, without names"
NOT_SHOWN = "no"
NOT_FOUND = "no (404)"
FORBIDDEN = "no (403)"

_STATUS = {200: YES, 403: FORBIDDEN, 404: NOT_FOUND}
CLIENT_PERSONAS = {"client", "partner_a", "partner_b", "other_practice_client"}
JOINT_SUMMARY = "Fictional joint summary for the visibility table."
PARTNER_A_GOAL = "Fictional: a goal the first partner keeps for herself, for the visibility table."
PARTNER_A_WORDS = "Fictional: the first partner, in her own words, for the visibility table."


@dataclass(frozen=True)
class Column:
    key: str
    persona: str
    supervision_consent: bool = False


COLUMNS = (
    Column("therapist_of_the_case", "therapist_a"),
    Column("other_therapist", "therapist_b"),
    Column("supervisor_without_consent", "supervisor"),
    Column("supervisor_with_consent", "supervisor", supervision_consent=True),
    Column("client", "partner_a"),
    Column("other_partner", "partner_b"),
)


@dataclass(frozen=True)
class Probe:
    world: World
    browser: Any
    persona: str
    state: dict[str, Any] = field(default_factory=dict)


def _status(response: Any) -> str:
    if response.status_code not in _STATUS:
        pytest.fail(f"unexpected {response.status_code} for {response.request['PATH_INFO']}", pytrace=False)
    return _STATUS[response.status_code]


def _case_url(name: str, world: World) -> str:
    return reverse(name, kwargs={"case_id": world.couple_case.public_id})


def _names_absent(response: Any, world: World) -> None:
    html = response.content.decode()
    for client in (world.partner_a, world.partner_b):
        assert client.full_name not in html, f"{response.request['PATH_INFO']} names {client.full_name}"
        assert client.email not in html


def _supervision_page(probe: Probe) -> str:
    """The supervisor's only way to a case: the named page is always 403; the nameless one follows consent."""
    assert _status(probe.browser.get(_case_url("workspace:case_detail", probe.world))) == FORBIDDEN
    response = probe.browser.get(_case_url("workspace:supervision_case", probe.world))
    if response.status_code == 200:
        _names_absent(response, probe.world)
        return NAMELESS
    return _status(response)


# --- Probes: one per row ------------------------------------------------------------------------------


def _sees_case(probe: Probe) -> str:
    if probe.persona in CLIENT_PERSONAS:
        return _status(probe.browser.get(_case_url("portal:case_detail", probe.world)))
    if probe.persona == "supervisor":
        return _supervision_page(probe)
    return _status(probe.browser.get(_case_url("workspace:case_detail", probe.world)))


def _book_joint_session(world: World) -> dict[str, Any]:
    return {"appointment": book(world, world.couple_case, ServiceKind.COUPLE, hour=13)}


def _sees_joint_session(probe: Probe) -> str:
    appointment = probe.state["appointment"]
    if probe.persona in CLIENT_PERSONAS:
        sessions = probe.browser.get(reverse("portal:home")).context["sessions"]
        return YES if any(s.participant.appointment_id == appointment.pk for s in sessions) else NOT_SHOWN
    return _status(probe.browser.get(reverse("workspace:appointment_detail", kwargs={"appointment_id": appointment.public_id})))


def _partner_a_withdraws_an_item(world: World) -> dict[str, Any]:
    assert world.partner_a.user is not None
    consent_withdraw(actor=world.partner_a.user, client=world.partner_a, item_key="online_sessions")
    return {}


def _sees_partner_a_consents(probe: Probe) -> str:
    world = probe.world
    if probe.persona in CLIENT_PERSONAS:
        history = probe.browser.get(reverse("portal:consents")).context["history"]
        return YES if any(d.client_id == world.partner_a.pk for d in history) else NOT_SHOWN
    if probe.persona == "supervisor":
        # The supervision page, when it opens, says since when the case consents and nothing else.
        outcome = _supervision_page(probe)
        return FORBIDDEN if outcome == NAMELESS else outcome
    response = probe.browser.get(_case_url("workspace:case_detail", world))
    if response.status_code != 200:
        return _status(response)
    shown = response.context["consents"] or []
    return YES if any(c.client == world.partner_a and c.history for c in shown) else NOT_SHOWN


def _write_summary(world: World) -> dict[str, Any]:
    case_update_summary(actor=world.user("therapist_a"), case=world.couple_case, summary=JOINT_SUMMARY)
    return {}


def _sees_summary(probe: Probe) -> str:
    world = probe.world
    if probe.persona in CLIENT_PERSONAS:
        response = probe.browser.get(_case_url("portal:case_detail", world))
        if response.status_code != 200:
            return _status(response)
        return YES if JOINT_SUMMARY in response.content.decode() else NOT_SHOWN
    if probe.persona == "supervisor":
        outcome = _supervision_page(probe)
        if outcome != NAMELESS:
            return outcome
        page = probe.browser.get(_case_url("workspace:supervision_case", world)).content.decode()
        return YES if JOINT_SUMMARY in page else FORBIDDEN
    response = probe.browser.get(_case_url("workspace:case_summary", world))
    if response.status_code != 200:
        return _status(response)
    return YES if JOINT_SUMMARY in response.content.decode() else NOT_SHOWN


def _record_opened(world: World) -> dict[str, Any]:
    """Events about partner A alone (a withdrawal recorded by the therapist) and a joint read."""
    consent_withdraw(actor=world.user("therapist_a"), client=world.partner_a, item_key="email_reminders")
    return {}


def _sees_partner_a_access_list(probe: Probe) -> str:
    world = probe.world
    if probe.persona in CLIENT_PERSONAS:
        events = probe.browser.get(reverse("portal:record_access")).context["page"].object_list
        return YES if any(e.client_id == world.partner_a.public_id for e in events) else NOT_SHOWN
    # Staff: the case's record-access page, one section per partner.
    response = probe.browser.get(_case_url("workspace:case_record_access", world))
    if response.status_code != 200:
        return _status(response)
    shown = {section.client.public_id: list(section.page.object_list) for section in response.context["sections"]}
    return YES if any(e.client_id == world.partner_a.public_id for e in shown.get(world.partner_a.public_id, [])) else NOT_SHOWN


def _partner_a_writes_an_intake(world: World) -> dict[str, Any]:
    assert world.partner_a.user is not None
    intake_save(actor=world.partner_a.user, client=world.partner_a, what_brings_you=PARTNER_A_WORDS)
    return {}


def _sees_partner_a_intake(probe: Probe) -> str:
    world = probe.world
    staff_url = reverse("workspace:client_intake", kwargs={"case_id": world.couple_case.public_id, "client_id": world.partner_a.public_id})
    if probe.persona in CLIENT_PERSONAS:
        # The staff page is closed to every client before any lookup; the portal page is one's own.
        assert _status(probe.browser.get(staff_url)) == FORBIDDEN
        return YES if PARTNER_A_WORDS in probe.browser.get(reverse("portal:intake")).content.decode() else NOT_SHOWN
    response = probe.browser.get(staff_url)
    if response.status_code != 200:
        return _status(response)
    return YES if PARTNER_A_WORDS in response.content.decode() else NOT_SHOWN


def _partner_a_signature(world: World) -> dict[str, Any]:
    return {"signature": Signature.objects.filter(client=world.partner_a).latest("id")}


def _sees_partner_a_signature(probe: Probe) -> str:
    signature = probe.state["signature"]
    if probe.persona in CLIENT_PERSONAS:
        page, pdf = (
            _status(probe.browser.get(reverse(name, kwargs={"signature_id": signature.public_id})))
            for name in ("portal:consent_signature", "portal:consent_signature_pdf")
        )
        assert page == pdf, f"the signature page answers {page!r} but its PDF {pdf!r}"
        return page
    url = reverse(
        "workspace:case_signature_pdf", kwargs={"case_id": probe.world.couple_case.public_id, "signature_id": signature.public_id}
    )
    return _status(probe.browser.get(url))


def _partner_a_exports(world: World) -> dict[str, Any]:
    assert world.partner_a.user is not None
    export = export_request(actor=world.partner_a.user)
    export_build(export_pk=export.pk)
    return {"token": DataExport.objects.get(pk=export.pk).token}


def _downloads_partner_a_export(probe: Probe) -> str:
    return _status(probe.browser.get(reverse("portal:my_data_download", kwargs={"token": probe.state["token"]})))


def _partner_a_checks_in(world: World) -> dict[str, Any]:
    """Pat answers the before-session check-in twice and writes a note after a session; Quinn answers nothing."""
    case = world.couple_case
    sent(world.partner_a, case, "presession", {"week": 3}, when(3, 5))
    sent(world.partner_a, case, "presession", {"week": 8}, when(3, 19))
    sent(world.partner_a, case, "alliance", {"goals": 5, "tasks": 4, "bond": 3, "note": PAT_NOTE}, when(3, 5, 18), timing="after")
    return {}


def _sees_partner_a_results(probe: Probe) -> str:
    world = probe.world
    if probe.persona in CLIENT_PERSONAS:
        response = probe.browser.get(reverse("portal:results"))
        if response.status_code != 200:
            return _status(response)
        # The page takes no id: what a partner sees is whatever their own record holds.
        return YES if response.context["results"] else NOT_SHOWN
    response = probe.browser.get(_case_url("workspace:case_measures", world))
    if response.status_code != 200:
        return _status(response)
    return YES if any(world.partner_a.full_name in result.columns for result in response.context["results"]) else NOT_SHOWN


def _sees_partner_a_fhir(probe: Probe) -> str:
    world = probe.world
    url = reverse("workspace:client_fhir", kwargs={"case_id": world.couple_case.public_id, "client_id": world.partner_a.public_id})
    response = probe.browser.get(url)
    if response.status_code != 200:
        return _status(response)
    return YES if PAT_NOTE in response.content.decode() else NOT_SHOWN


# --- The table ------------------------------------------------------------------------------------------


def _partner_a_writes_her_own_goal(world: World) -> dict[str, Any]:
    assert world.partner_a.user is not None
    revision = plan_propose_goal(actor=world.partner_a.user, case=world.couple_case, words=PARTNER_A_GOAL, owner=world.partner_a)
    return {"revision": revision}


def _sees_partner_a_goal(probe: Probe) -> str:
    """Clients through the portal's plan page, and a guessed id posted to it; staff through the plan's
    selector until the workspace has a plan page (the selector is what that page will call)."""
    revision = probe.state["revision"]
    if probe.persona in CLIENT_PERSONAS:
        url = _case_url("portal:case_plan", probe.world)
        response = probe.browser.get(url)
        if response.status_code != 200:
            return _status(response)
        if PARTNER_A_GOAL in response.content.decode():
            return YES
        answer = probe.browser.post(url, {"action": "answer", "item": str(revision.public_id), "choice": "agree"})
        return _status(answer)
    try:
        view = plan_for_viewer(probe.world.user(probe.persona), probe.world.couple_case.public_id)
    except Http404:
        return NOT_FOUND
    except PermissionDenied:
        return FORBIDDEN
    return YES if PARTNER_A_GOAL in {v.revision.client_words for v in view.goals} else NOT_SHOWN


@dataclass(frozen=True)
class Row:
    key: str
    item: str  # as ARCHITECTURE.md words it, or what it is where the table has no word for it yet
    probe: Callable[[Probe], str]
    cells: dict[str, str]
    setup: Callable[[World], dict[str, Any]] = lambda world: {}


ROWS: tuple[Row, ...] = (
    Row(
        key="joint_case",
        item="the couple's case: its joint facts (who is in it, kind, status)",
        probe=_sees_case,
        cells={
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": NAMELESS,
            "client": YES,
            "other_partner": YES,
        },
    ),
    Row(
        key="joint_session",
        item="a joint appointment (a couples session)",
        setup=_book_joint_session,
        probe=_sees_joint_session,
        cells={
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": FORBIDDEN,
            "client": YES,
            "other_partner": YES,
        },
    ),
    Row(
        key="partner_consents",
        item="a partner's consents and the history of their choices",
        setup=_partner_a_withdraws_an_item,
        probe=_sees_partner_a_consents,
        cells={
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": FORBIDDEN,
            "client": YES,
            "other_partner": NOT_SHOWN,
        },
    ),
    Row(
        key="case_summary",
        item="the therapist's working summary of the case (clinical text)",
        setup=_write_summary,
        probe=_sees_summary,
        cells={
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": FORBIDDEN,
            "client": NOT_SHOWN,
            "other_partner": NOT_SHOWN,
        },
    ),
    Row(
        key="record_access",
        item="audit of my record (who opened a partner's record, and when)",
        setup=_record_opened,
        probe=_sees_partner_a_access_list,
        cells={
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": FORBIDDEN,
            "client": YES,
            "other_partner": NOT_SHOWN,
        },
    ),
    Row(
        key="partner_intake",
        item="a partner's intake answers (contact, emergency contact, what brings them, what they hope for)",
        setup=_partner_a_writes_an_intake,
        probe=_sees_partner_a_intake,
        cells={
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": FORBIDDEN,
            "client": YES,
            "other_partner": NOT_SHOWN,
        },
    ),
    Row(
        key="partner_goal",
        item="a partner's individual goal (and a guessed id posted to the plan page)",
        setup=_partner_a_writes_her_own_goal,
        probe=_sees_partner_a_goal,
        cells={
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": YES,
            "client": YES,
            "other_partner": NOT_FOUND,
        },
    ),
    Row(
        key="partner_signature",
        item="a partner's signature record and its PDF",
        setup=_partner_a_signature,
        probe=_sees_partner_a_signature,
        cells={
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": FORBIDDEN,
            "client": YES,
            "other_partner": NOT_FOUND,
        },
    ),
    Row(
        key="partner_results",
        item="a partner's check-in results (their scores over time)",
        setup=_partner_a_checks_in,
        probe=_sees_partner_a_results,
        cells={
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": FORBIDDEN,
            "client": YES,
            "other_partner": NOT_SHOWN,
        },
    ),
    Row(
        key="partner_checkins_fhir",
        item="a partner's check-in answers, free text included, as a FHIR export",
        setup=_partner_a_checks_in,
        probe=_sees_partner_a_fhir,
        cells={
            # The export is a workspace download: clients are turned away (403) before any lookup.
            "therapist_of_the_case": YES,
            "other_therapist": NOT_FOUND,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": FORBIDDEN,
            "client": FORBIDDEN,
            "other_partner": FORBIDDEN,
        },
    ),
    Row(
        key="partner_export",
        item="a partner's data export, through its download link",
        setup=_partner_a_exports,
        probe=_downloads_partner_a_export,
        cells={
            # Staff are turned away from the portal (403) before the link is looked up.
            "therapist_of_the_case": FORBIDDEN,
            "other_therapist": FORBIDDEN,
            "supervisor_without_consent": FORBIDDEN,
            "supervisor_with_consent": FORBIDDEN,
            "client": YES,
            "other_partner": NOT_FOUND,
        },
    ),
)

# Workspace routes that take a client's id, each with the row above that pins who reaches it.
CLIENT_ID_ROUTES = {
    "workspace:client_intake": "partner_intake",
    "workspace:client_invite": "partner_intake",
    "workspace:client_fhir": "partner_checkins_fhir",
}

CELLS = [(row, column) for row in ROWS for column in COLUMNS]


def test_every_row_declares_every_column() -> None:
    columns = {c.key for c in COLUMNS}
    problems = [f"{row.key}: {sorted(columns ^ set(row.cells))}" for row in ROWS if set(row.cells) != columns]
    assert not problems, "rows must name each column exactly once: " + "; ".join(problems)
    assert len({row.key for row in ROWS}) == len(ROWS), "row keys must be unique"


@pytest.mark.parametrize(("row", "column"), CELLS, ids=[f"{r.key}-{c.key}" for r, c in CELLS])
def test_visibility(row: Row, column: Column, world: World, client_as: Any) -> None:
    for partner in (world.partner_a, world.partner_b):
        sign_all(partner, supervision=column.supervision_consent)
    state = row.setup(world)
    got = row.probe(Probe(world=world, browser=client_as(column.persona), persona=column.persona, state=state))
    expected = row.cells[column.key]
    if got != expected:
        pytest.fail(f"{row.item}, as {column.key.replace('_', ' ')} ({column.persona}): expected {expected!r}, got {got!r}", pytrace=False)


def test_no_client_page_takes_a_client_id() -> None:
    """A client reaches their items only as their own: no portal URL names a client, and every
    workspace URL that does is declared with the row that pins it."""
    taking = [(p.name, sorted(p.args)) for p in PATTERNS if p.name and p.name.split(":")[0] in {"portal", "workspace"}]
    naming_a_client = [(name, args) for name, args in taking if any("client" in arg for arg in args) and name not in CLIENT_ID_ROUTES]
    assert not naming_a_client, f"these routes take a client's id; declare them in the visibility table: {naming_a_client}"
    assert not [name for name in CLIENT_ID_ROUTES if name.startswith("portal:")]
    assert set(CLIENT_ID_ROUTES.values()) <= {row.key for row in ROWS}
