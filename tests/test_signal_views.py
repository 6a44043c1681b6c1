"""The case's signals page: what the therapist reads, acknowledging and resolving, refused input."""

from __future__ import annotations

import pytest
from django.urls import reverse

from rapport.audit.models import AuditEvent
from rapport.insights.models import Signal, SignalStatus
from rapport.insights.services import signals_detect
from rapport.measures.models import Timing
from tests.personas import World
from tests.results import phq9 as phq9_answers
from tests.results import sent, when

pytestmark = pytest.mark.django_db


def _url(case) -> str:
    return reverse("workspace:case_signals", kwargs={"case_id": case.public_id})


def _split(world: World) -> list[Signal]:
    case = world.couple_case
    sent(world.partner_a, case, "alliance", {"goals": 9, "tasks": 9, "bond": 9}, when(3, 3, 18), timing=Timing.AFTER)
    sent(world.partner_b, case, "alliance", {"goals": 6, "tasks": 5, "bond": 3}, when(3, 3, 18), timing=Timing.AFTER)
    return signals_detect(case, now=when(3, 4))


def test_the_therapist_reads_each_signal_with_its_numbers_rule_and_next_step(world: World, client_as):
    _split(world)
    response = client_as("therapist_a").get(_url(world.couple_case))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1") == 1
    assert "Split alliance: Both partners" in html
    assert "Possible alliance rupture: Quinn Partner" in html
    assert "the partners&#x27; totals were 13 points apart" in html
    assert "Rapport's rule" in html
    assert "The literature gives no number for this" in html
    assert "Muñiz de la Peña" in html
    assert "A next step:" in html
    assert "Last checked 4 March 2026 at" in html
    # One read of the signals per client of the case.
    events = AuditEvent.objects.filter(object_type="insights.signals", action="view")
    assert sorted(str(c) for c in events.values_list("client_id", flat=True)) == sorted(
        [str(world.partner_a.public_id), str(world.partner_b.public_id)]
    )


def test_a_case_never_checked_says_so(world: World, client_as):
    html = client_as("therapist_a").get(_url(world.individual_case)).content.decode()
    assert "Not checked yet" in html
    assert "No open signals." in html


def test_acknowledge_then_resolve_with_a_note(world: World, client_as):
    split = next(s for s in _split(world) if s.client is None)
    browser = client_as("therapist_a")
    response = browser.post(_url(world.couple_case), {"form": "acknowledge", "signal": str(split.public_id)})
    assert response.status_code == 303
    assert response["Location"].endswith(f"#signal-{split.public_id}")
    assert Signal.objects.get(pk=split.pk).status == SignalStatus.ACKNOWLEDGED

    refused = browser.post(_url(world.couple_case), {"form": "resolve", "signal": str(split.public_id), "note": "  "})
    assert refused.status_code == 400
    assert "Please write a short note of what was done. Nothing was changed." in refused.content.decode()
    assert Signal.objects.get(pk=split.pk).status == SignalStatus.ACKNOWLEDGED

    note = "Fictional: asked each partner how the sessions feel; Quinn felt unheard last time."
    browser.post(_url(world.couple_case), {"form": "resolve", "signal": str(split.public_id), "note": note})
    resolved = Signal.objects.get(pk=split.pk)
    assert (resolved.status, resolved.resolution_note) == (SignalStatus.RESOLVED, note)
    page = browser.get(_url(world.couple_case)).content.decode()
    assert 'id="resolved-heading"' in page
    assert note in page


def test_a_signal_of_another_case_or_a_made_up_form_changes_nothing(world: World, client_as):
    [other] = signals_detect(
        sent(
            world.client, world.individual_case, "alliance", {"goals": 9, "tasks": 9, "bond": 1}, when(3, 3, 18), timing=Timing.AFTER
        ).case,
        now=when(3, 4),
    )
    _split(world)
    browser = client_as("therapist_a")
    assert browser.post(_url(world.couple_case), {"form": "acknowledge", "signal": str(other.public_id)}).status_code == 404
    assert browser.post(_url(world.couple_case), {"form": "acknowledge", "signal": "not-a-uuid"}).status_code == 404
    some = Signal.objects.filter(case=world.couple_case).first()
    assert browser.post(_url(world.couple_case), {"form": "delete", "signal": str(some.public_id)}).status_code == 400
    assert not Signal.objects.exclude(status=SignalStatus.NEW).exists()


def test_the_supervisor_sees_the_signals_without_names_words_or_notes(world: World, client_as):
    from tests.consenting import sign_all

    sign_all(world.partner_a)
    sign_all(world.partner_b)
    case = world.couple_case
    sent(world.partner_a, case, "phq9", phq9_answers(18), when(3, 3))
    sent(world.partner_a, case, "phq9", phq9_answers(10), when(3, 17))
    sent(world.partner_a, case, "presession", {"week": 2, "agenda": "Fictional: Quinn says everything is falling apart."}, when(3, 18))
    split = next(s for s in _split(world) if s.client is None)
    signals_detect(case, now=when(3, 19))
    browser = client_as("therapist_a")
    browser.post(_url(case), {"form": "resolve", "signal": str(split.public_id), "note": "Fictional: Pat and Quinn talked it through."})

    page = client_as("supervisor").get(reverse("workspace:supervision_case", kwargs={"case_id": case.public_id}))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Split alliance: Both partners" in html
    assert "Possible alliance rupture: Partner 2" in html
    assert "Words and scores differ: Partner 1" in html
    for private in ("Pat", "Quinn", "falling apart", "talked it through"):
        assert private not in html
    assert "Acknowledge" not in html


@pytest.mark.parametrize(
    ("back", "followed"),
    [
        ("/workspace/appointments/00000000-0000-0000-0000-000000000001/briefing/", True),
        ("https://elsewhere.example/workspace/", False),
        ("//elsewhere.example/workspace/", False),
        ("/portal/", False),
    ],
)
def test_acknowledging_returns_to_a_workspace_page_only(world: World, client_as, back, followed):
    split = next(s for s in _split(world) if s.client is None)
    response = client_as("therapist_a").post(_url(world.couple_case), {"form": "acknowledge", "signal": str(split.public_id), "next": back})
    assert response.status_code == 303
    expected = back if followed else _url(world.couple_case)
    assert response["Location"] == f"{expected}#signal-{split.public_id}"
