"""Answering a check-in: the one-time link page and the portal pages, one question per screen.

All through the Django test client, on both databases: happy paths, stopping half-way and coming
back, every kind of dead link, tampered forms, scoping between clients (the other partner
included), the crisis resources after a risk answer, and the audit trail of reads and writes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.audit.models import AuditEvent
from rapport.core.todo import todos_for
from rapport.measures.links import checkin_link_path
from rapport.measures.models import Administration, AdministrationStatus, AlertKind, RiskAlert
from rapport.measures.services import administrations_for_appointment
from tests.answering import open_checkin, with_crisis_resources
from tests.checkins import CRISIS, NOW, book, phq9_of, prepare
from tests.personas import World

ITEM_1 = "Little interest or pleasure in doing things"
ITEM_9 = "Thoughts that you would be better off dead or of hurting yourself in some way"
SUPPORT = "will be told today"


def _link(token: str, step: object = None) -> str:
    url = reverse("checkin_link", kwargs={"token": token})
    return f"{url}?step={step}" if step is not None else url


def _portal(administration: Administration, step: object = None) -> str:
    url = reverse("portal:checkin", kwargs={"administration_id": administration.public_id})
    return f"{url}?step={step}" if step is not None else url


def _answer(browser: Client, url: str, step: int, item: str, value: object, action: str = "next"):  # type: ignore[no-untyped-def]
    data = {"action": action, "item": item}
    if value is not None:
        data["answer"] = str(value)
    return browser.post(f"{url}?step={step}", data)


def _answer_phq9(browser: Client, url: str, values: list[int]) -> None:
    for n, value in enumerate(values, start=1):
        response = _answer(browser, url, n, f"phq9_{n}", value)
        assert response.status_code == 303, response.content.decode()[:500]


def _stored(administration: Administration) -> Administration:
    return Administration.objects.get(pk=administration.pk)


def _mark() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- The link's path ------------------------------------------------------------------------------------


def test_the_link_path_is_checkin_and_the_token():
    assert checkin_link_path("abc-DEF_123") == "/checkin/abc-DEF_123/"


# --- The one-time link: the happy path ----------------------------------------------------------------


def test_a_client_answers_a_phq9_through_the_link_and_sends_it(world: World):
    administration, token = open_checkin(world)
    browser = Client()

    first = browser.get(_link(token))
    page = first.content.decode()
    assert first.status_code == 200
    assert "Question 1 of 10" in page
    assert "Over the last 2 weeks, how often have you been bothered" in page
    assert ITEM_1 in page
    assert 'type="radio"' in page
    assert "Nearly every day" in page
    assert first["Cache-Control"] == "no-store"
    assert first["X-Robots-Tag"] == "noindex"
    assert first["Referrer-Policy"] == "same-origin"

    _answer_phq9(browser, _link(token), [1, 2, 1, 0, 0, 1, 0, 0, 0])
    last = _answer(browser, _link(token), 10, "phq9_difficulty", None, action="skip")
    assert last["Location"] == _link(token, "review")
    review = browser.get(last["Location"]).content.decode()
    assert "Check your answers" in review
    assert "More than half the days" in review
    assert "Skipped" in review

    sent = browser.post(_link(token, "review"), {"action": "send"})
    assert sent.status_code == 303
    assert sent["Location"] == _link(token)
    thanks = browser.get(sent["Location"]).content.decode()
    assert "Thank you" in thanks
    assert SUPPORT not in thanks
    stored = _stored(administration)
    assert stored.status == AdministrationStatus.COMPLETED
    assert stored.total == 5
    assert stored.answers["phq9_2"] == 2
    # No score and no band on the client's pages.
    assert "Mild" not in thanks
    assert ">5<" not in thanks
    assert not RiskAlert.objects.filter(administration=administration).exists()


def test_a_real_invitation_token_opens_its_check_in(world: World):
    prepare(world)
    appointment = book(world)
    issued = {i.administration.instrument_key: i for i in administrations_for_appointment(appointment, now=NOW)}
    # The pages run on the real clock: move the window of this fictional session around now.
    now = timezone.now()
    Administration.objects.filter(pk=phq9_of(appointment).pk).update(opens_at=now - timedelta(hours=1), expires_at=now + timedelta(days=1))

    response = Client().get(checkin_link_path(issued["phq9"].token))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Before your session on" in page
    assert "Tuesday 24 November, 10:00</time>" in page


def test_a_client_who_stops_half_way_finds_their_answers_when_they_come_back(world: World):
    administration, token = open_checkin(world)
    _answer_phq9(Client(), _link(token), [3, 2, 1])
    assert _stored(administration).status == AdministrationStatus.IN_PROGRESS
    assert _stored(administration).answers == {"phq9_1": 3, "phq9_2": 2, "phq9_3": 1}

    later = Client()  # another day, another browser: the link is the key
    resumed = later.get(_link(token))
    assert "Question 4 of 10" in resumed.content.decode()
    earlier = later.get(_link(token, 2)).content.decode()
    assert 'value="2" checked' in earlier
    back = _answer(later, _link(token), 2, "phq9_2", 0, action="back")
    assert back["Location"] == _link(token, 1)
    assert _stored(administration).answers["phq9_2"] == 0


def test_the_portal_and_the_link_share_the_saved_answers(world: World, client_as):
    administration, token = open_checkin(world)
    _answer_phq9(Client(), _link(token), [1, 1])
    page = client_as("client").get(_portal(administration)).content.decode()
    assert "Question 3 of 10" in page


# --- Dead links ----------------------------------------------------------------------------------------


def _assert_plain_message(response, text: str) -> None:  # type: ignore[no-untyped-def]
    page = response.content.decode()
    assert text in page
    assert "<form" not in page.split("<main", 1)[1].split("</main>")[0]


def test_an_unknown_token_is_a_plain_not_found(world: World):
    response = Client().get(_link("no-such-token-at-all"))
    assert response.status_code == 404
    page = response.content.decode()
    assert "This link is not valid" in page
    assert "Harbour" not in page
    assert "Cora" not in page


def test_a_used_link_says_so_and_changes_nothing(world: World):
    administration, token = open_checkin(world)
    browser = Client()
    _answer_phq9(browser, _link(token), [0] * 9)
    assert browser.post(_link(token, "review"), {"action": "send"}).status_code == 303
    before = _stored(administration)

    second = Client()  # someone else who finds the email later
    response = second.get(_link(token))
    _assert_plain_message(response, "This check-in has already been sent. Thank you.")
    post = second.post(_link(token, 1), {"action": "next", "item": "phq9_1", "answer": "3"})
    assert post.status_code == 409
    again = browser.post(_link(token, "review"), {"action": "send"})
    assert again.status_code == 409
    after = _stored(administration)
    assert after.answers == before.answers
    assert after.submitted_at == before.submitted_at


def test_an_expired_link_says_so_and_changes_nothing(world: World):
    now = timezone.now()
    administration, token = open_checkin(world, opens_at=now - timedelta(days=3), expires_at=now - timedelta(minutes=1))
    _assert_plain_message(Client().get(_link(token)), "This check-in has expired.")
    response = Client().post(_link(token, 1), {"action": "next", "item": "phq9_1", "answer": "1"})
    assert response.status_code == 409
    assert _stored(administration).answers is None


def test_a_cancelled_check_in_says_so_and_changes_nothing(world: World):
    administration, token = open_checkin(world, status=AdministrationStatus.CANCELLED)
    _assert_plain_message(Client().get(_link(token)), "This check-in was cancelled with its session.")
    assert Client().post(_link(token, 1), {"action": "next", "item": "phq9_1", "answer": "1"}).status_code == 409
    assert _stored(administration).answers is None


def test_a_check_in_not_open_yet_says_so(world: World):
    now = timezone.now()
    administration, token = open_checkin(world, opens_at=now + timedelta(days=1))
    _assert_plain_message(Client().get(_link(token)), "This check-in is not open yet.")
    assert Client().post(_link(token, 1), {"action": "next", "item": "phq9_1", "answer": "1"}).status_code == 409
    assert _stored(administration).answers is None


def test_a_data_collection_only_instrument_is_never_offered_as_a_form(world: World, client_as):
    administration, token = open_checkin(world, key="who5")
    page = Client().get(_link(token))
    _assert_plain_message(page, "filled in with your therapist")
    assert "radio" not in page.content.decode()
    assert Client().post(_link(token, 1), {"action": "next", "item": "who5_1", "answer": "3"}).status_code == 409
    assert _stored(administration).answers is None
    listing = client_as("client").get(reverse("portal:checkins")).content.decode()
    assert _portal(administration) not in listing
    assert all("who5" not in item.url and str(administration.public_id) not in item.url for item in todos_for(world.client))


# --- Signed in with a link --------------------------------------------------------------------------------


def test_the_owner_signed_in_is_sent_to_the_same_check_in_in_the_portal(world: World, client_as):
    administration, token = open_checkin(world)
    response = client_as("client").get(_link(token))
    assert response.status_code == 303
    assert response["Location"] == _portal(administration)


@pytest.mark.parametrize("persona", ["therapist_a", "partner_a", "other_practice_client"])
def test_someone_else_signed_in_is_asked_to_sign_out_and_nothing_changes(world: World, client_as, persona):
    administration, token = open_checkin(world)
    browser = client_as(persona)
    page = browser.get(_link(token)).content.decode()
    assert "Please sign out first" in page
    assert "Cora" not in page
    assert ITEM_1 not in page
    # The same page for a link that does not exist: it tells them nothing about the link.
    assert "Please sign out first" in browser.get(_link("no-such-token")).content.decode()
    browser.post(_link(token, 1), {"action": "next", "item": "phq9_1", "answer": "3"})
    assert _stored(administration).answers is None


# --- Tampered forms ------------------------------------------------------------------------------------


def test_an_out_of_range_value_is_refused_with_the_services_message_and_nothing_is_saved(world: World):
    administration, token = open_checkin(world)
    response = _answer(Client(), _link(token), 1, "phq9_1", 7)
    assert response.status_code == 400
    page = response.content.decode()
    assert "That answer could not be saved" in page
    assert "7 is not an allowed value" in page
    assert "Question 1 of 10" in page
    assert _stored(administration).answers is None
    assert _stored(administration).status == AdministrationStatus.PENDING


def test_a_tampered_item_id_is_refused_and_nothing_is_saved(world: World):
    administration, token = open_checkin(world)
    _answer_phq9(Client(), _link(token), [1])
    response = _answer(Client(), _link(token), 2, "phq9_99", 1)
    assert response.status_code == 400
    assert "unknown item" in response.content.decode()
    assert _stored(administration).answers == {"phq9_1": 1}


def test_a_word_where_a_number_belongs_is_refused(world: World):
    administration, token = open_checkin(world)
    response = _answer(Client(), _link(token), 1, "phq9_1", "lots")
    assert response.status_code == 400
    assert "expected an integer" in response.content.decode()
    assert _stored(administration).answers is None


def test_a_scored_question_needs_an_answer_and_cannot_be_skipped(world: World):
    administration, token = open_checkin(world)
    nothing = _answer(Client(), _link(token), 1, "phq9_1", None)
    assert nothing.status_code == 400
    assert "Please choose an answer to go on." in nothing.content.decode()
    skipped = _answer(Client(), _link(token), 1, "phq9_1", None, action="skip")
    assert skipped.status_code == 400
    assert "cannot be skipped" in skipped.content.decode()
    assert _stored(administration).answers is None


def test_an_unknown_button_is_refused(world: World):
    administration, token = open_checkin(world)
    response = Client().post(_link(token, 1), {"action": "delete-everything", "item": "phq9_1", "answer": "1"})
    assert response.status_code == 400
    assert "Please use the buttons on the page." in response.content.decode()
    assert _stored(administration).answers is None


def test_sending_with_a_scored_question_unanswered_is_refused(world: World):
    administration, token = open_checkin(world)
    _answer_phq9(Client(), _link(token), [1, 1, 1])
    response = Client().post(_link(token, "review"), {"action": "send"})
    assert response.status_code == 400
    assert "Please answer questions 4, 5, 6, 7, 8, 9 before sending." in response.content.decode()
    assert _stored(administration).status == AdministrationStatus.IN_PROGRESS


def test_free_text_over_the_limit_is_refused(world: World):
    administration, token = open_checkin(world, key="alliance")
    response = _answer(Client(), _link(token), 4, "note", "x" * 2001)
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    assert _stored(administration).answers is None


def test_the_after_session_check_in_takes_free_text_and_it_can_be_skipped(world: World):
    administration, token = open_checkin(world, key="alliance")
    browser = Client()
    for n, item in enumerate(("goals", "tasks", "bond"), start=1):
        assert _answer(browser, _link(token), n, item, 8).status_code == 303
    page = browser.get(_link(token, 4)).content.decode()
    assert "<textarea" in page
    assert "(optional)" in page
    assert _answer(browser, _link(token), 4, "note", "  Fictional: the pace felt right.  ").status_code == 303
    assert _stored(administration).answers["note"] == "Fictional: the pace felt right."
    assert browser.post(_link(token, "review"), {"action": "send"}).status_code == 303
    assert _stored(administration).status == AdministrationStatus.COMPLETED


# --- Another client's check-in ------------------------------------------------------------------------------


def test_a_link_opens_only_its_own_check_in(world: World):
    cora, cora_token = open_checkin(world)
    pat, _ = open_checkin(world, "partner_a", key="presession")
    # Cora's token with Pat's item ids: answers go to Cora's check-in only, and are refused there.
    response = _answer(Client(), _link(cora_token), 1, "week", 5)
    assert response.status_code == 400
    assert _stored(pat).answers is None
    assert _stored(cora).answers is None


def test_the_portal_shows_a_client_only_their_own_check_ins(world: World, client_as):
    pat, _ = open_checkin(world, "partner_a", key="presession")
    quinn, _ = open_checkin(world, "partner_b", key="presession")
    olive, _ = open_checkin(world, "other", key="phq9")

    as_pat = client_as("partner_a")
    assert as_pat.get(_portal(pat)).status_code == 200
    assert as_pat.get(_portal(quinn)).status_code == 404
    assert as_pat.get(_portal(olive)).status_code == 404
    assert as_pat.post(_portal(quinn, 1), {"action": "next", "item": "week", "answer": "5"}).status_code == 404
    assert _stored(quinn).answers is None
    listing = as_pat.get(reverse("portal:checkins")).content.decode()
    assert _portal(pat) in listing
    assert _portal(quinn) not in listing
    assert client_as("therapist_a").get(_portal(pat)).status_code == 403


def test_the_portal_list_shows_open_and_recently_sent_check_ins(world: World, client_as):
    open_one, _ = open_checkin(world)
    sent, sent_token = open_checkin(world, key="gad7")
    browser = Client()
    for n in range(1, 8):
        assert _answer(browser, _link(sent_token), n, f"gad7_{n}", 0).status_code == 303
    assert browser.post(_link(sent_token, "review"), {"action": "send"}).status_code == 303

    page = client_as("client").get(reverse("portal:checkins"))
    text = page.content.decode()
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert "To answer now" in text
    assert _portal(open_one) in text
    assert "Sent recently" in text
    assert "Generalized Anxiety Disorder" in text
    assert _portal(sent) not in text


def test_open_check_ins_appear_in_the_portals_things_to_do(world: World, client_as):
    administration, _ = open_checkin(world)
    later, _ = open_checkin(world, key="gad7", opens_at=timezone.now() + timedelta(days=1))
    items = todos_for(world.client)
    urls = [item.url for item in items]
    assert _portal(administration) in urls
    assert _portal(later) not in urls
    home = client_as("client").get(reverse("portal:home")).content.decode()
    assert _portal(administration) in home
    assert "Answer your check-in: Patient Health Questionnaire-9" in home
    assert _portal(administration) not in client_as("partner_a").get(reverse("portal:home")).content.decode()


# --- Risk -------------------------------------------------------------------------------------------------------


def test_a_risk_answer_shows_crisis_resources_on_the_next_screen_and_raises_the_alert(world: World):
    with_crisis_resources(world)
    administration, token = open_checkin(world)
    browser = Client()
    _answer_phq9(browser, _link(token), [1, 1, 1, 1, 1, 1, 1, 1])
    before = browser.get(_link(token, 9)).content.decode()
    assert SUPPORT not in before

    saved = _answer(browser, _link(token), 9, "phq9_9", 2)
    assert saved["Location"] == _link(token, 10)
    alert = RiskAlert.objects.get(administration=administration)
    assert alert.kind == AlertKind.RISK_ANSWER

    page = browser.get(saved["Location"]).content.decode()
    main = page.split("<main", 1)[1]
    # First on the page, before the question itself, and the question is still there to answer.
    assert main.index(CRISIS[0]["contact"]) < main.index("<h1")
    assert "Theo Treating will be told today" in page
    assert CRISIS[0]["name"] in page
    assert "Question 10 of 10" in page
    for word in ("severe", "Moderate", "score", "depress"):
        assert word not in main.split("<h1")[0]

    assert _answer(browser, _link(token), 10, "phq9_difficulty", 1).status_code == 303
    assert browser.post(_link(token, "review"), {"action": "send"}).status_code == 303
    thanks = browser.get(_link(token)).content.decode()
    assert "Thank you" in thanks
    assert CRISIS[0]["contact"] in thanks
    assert SUPPORT in thanks
    # Someone who opens the used link later learns nothing, risk least of all.
    later = Client().get(_link(token)).content.decode()
    assert CRISIS[0]["contact"] not in later
    assert "already been sent" in later


def test_in_the_portal_a_risk_answer_shows_the_resources_too(world: World, client_as):
    with_crisis_resources(world)
    administration, _ = open_checkin(world)
    browser = client_as("client")
    saved = _answer(browser, _portal(administration), 9, "phq9_9", 1)
    assert saved.status_code == 303
    page = browser.get(saved["Location"]).content.decode()
    assert CRISIS[0]["contact"] in page
    assert SUPPORT in page
    assert RiskAlert.objects.filter(administration=administration, kind=AlertKind.RISK_ANSWER).exists()


# --- Audit ------------------------------------------------------------------------------------------------------


def test_saves_and_reads_of_answers_are_audited_without_the_answers(world: World, client_as):
    administration, token = open_checkin(world)
    mark = _mark()
    browser = Client()
    _answer(browser, _link(token), 1, "phq9_1", 2)
    browser.get(_link(token, 1))
    events = list(AuditEvent.objects.filter(id__gt=mark, object_type="measures.administration").order_by("id"))
    assert [(e.action, e.detail.get("via")) for e in events] == [("update", "link"), ("view", "link")]
    assert all(e.client_id == world.client.public_id for e in events)
    assert all("2" not in str(e.detail.get("fields")) for e in events)

    mark = _mark()
    portal = client_as("client")
    portal.get(_portal(administration, 1))
    _answer(portal, _portal(administration), 1, "phq9_1", 3)
    events = list(AuditEvent.objects.filter(id__gt=mark, object_type="measures.administration").order_by("id"))
    assert [(e.action, e.detail.get("via"), e.actor_id) for e in events] == [
        ("view", "portal", world.user("client").pk),
        ("update", "portal", world.user("client").pk),
    ]


def test_a_refused_answer_writes_no_audit_event(world: World):
    _, token = open_checkin(world)
    mark = _mark()
    _answer(Client(), _link(token), 1, "phq9_1", 9)
    assert not AuditEvent.objects.filter(id__gt=mark, action="update").exists()


# --- Query counts ----------------------------------------------------------------------------------------------


def test_the_check_ins_list_and_the_portal_home_do_not_grow_with_the_check_ins(world: World, client_as):
    browser = client_as("client")
    open_checkin(world, key="phq9")
    browser.get(reverse("portal:home"))  # the session's first request writes the session too

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert browser.get(url).status_code == 200
        return len(queries)

    control = {url: count(url) for url in (reverse("portal:checkins"), reverse("portal:home"))}
    for key in ("gad7", "alliance", "presession"):
        open_checkin(world, key=key)
    open_checkin(world, key="gad2", label="sent", status=AdministrationStatus.COMPLETED, submitted_at=timezone.now())
    for url, before in control.items():
        after = count(url)
        assert after == before, f"{url}: {before} queries with one check-in, {after} with five"
        assert after <= 15
