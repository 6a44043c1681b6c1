"""A client answers a PHQ-9 on a phone through the one-time link, gives a risk answer, sees the
practice's crisis resources and sends it; their therapist then sees and acknowledges the alert."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from rapport.measures.models import AdministrationStatus, RiskAlert
from tests.answering import open_checkin, with_crisis_resources
from tests.browser.conftest import Session
from tests.checkins import CRISIS
from tests.personas import World

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
# Items 1-8 fictional and low; item 9 "Several days": a risk answer.
ANSWERS = ["Several days", "Not at all", "Several days", "Not at all", "Not at all", "Several days", "Not at all", "Not at all"]


def _answer(session: Session, number: int, label: str) -> None:
    page = session.page
    expect(page.get_by_text(f"Question {number} of 10", exact=True)).to_be_visible()
    session.check()
    page.get_by_role("radio", name=label, exact=True).check()
    page.get_by_role("button", name="Next", exact=False).first.click()


def _fits_the_screen(session: Session) -> None:
    width = session.page.evaluate("document.documentElement.scrollWidth") if session.javascript else None
    if width is not None:
        assert width <= PHONE["viewport"]["width"]  # type: ignore[index]


def test_a_client_answers_through_the_link_without_javascript_and_the_therapist_acknowledges(
    new_session: Callable[..., Session], world: World
) -> None:
    with_crisis_resources(world)
    administration, token = open_checkin(world)
    client = new_session(javascript=False, **PHONE)
    page = client.page

    client.goto(f"/checkin/{token}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient Health Questionnaire-9")
    expect(page.get_by_role("group")).to_contain_text("Over the last 2 weeks")
    # A scored question cannot be passed by without an answer: the browser's own check stops it.
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Question 1 of 10", exact=True)).to_be_visible()

    for number, label in enumerate(ANSWERS, start=1):
        _answer(client, number, label)
    expect(page.get_by_role("region", name="Support, if you need it now")).to_have_count(0)
    _answer(client, 9, "Several days")

    # The very next screen: the crisis resources first, a plain sentence, and the question to carry on with.
    support = page.get_by_role("region", name="Support, if you need it now")
    expect(support).to_be_visible()
    expect(support).to_contain_text("Theo Treating will be told today")
    expect(support).to_contain_text(CRISIS[0]["contact"])
    assert page.locator("main > *").first.get_attribute("aria-labelledby") == "support-heading"
    expect(page.get_by_text("Question 10 of 10", exact=True)).to_be_visible()
    client.check()
    assert RiskAlert.objects.filter(administration=administration).exists()
    page.get_by_role("button", name="Skip this question").click()

    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    client.check()
    review = page.get_by_role("list").filter(has_text="Little interest")
    expect(review).to_contain_text("Skipped")
    page.get_by_role("button", name="Send my answers").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.get_by_role("region", name="Support, if you need it now")).to_contain_text(CRISIS[0]["contact"])
    client.check()
    main = page.get_by_role("main").inner_text()
    assert "score" not in main.lower()
    assert "severe" not in main.lower()
    administration.refresh_from_db()
    assert administration.status == AdministrationStatus.COMPLETED

    # The link has done its job: opened again elsewhere, it says so, offers no form and tells of no risk.
    later = new_session(javascript=False, **PHONE)
    later.goto(f"/checkin/{token}/")
    expect(later.page.get_by_role("main")).to_contain_text("already been sent")
    expect(later.page.locator("main form")).to_have_count(0)
    expect(later.page.get_by_role("main")).not_to_contain_text(CRISIS[0]["contact"])

    therapist = new_session()
    therapist.sign_in("therapist.a@harbour.example", second_factor=True)
    alerts = therapist.page.get_by_role("region", name="Check-ins that need attention now")
    expect(alerts).to_be_visible()
    alerts.get_by_role("link", name="Cora Client: Patient Health Questionnaire-9", exact=False).click()
    therapist.page.wait_for_url("**/workspace/alerts/*/")
    therapist.check()
    expect(therapist.page.get_by_role("main")).to_contain_text("Several days")
    therapist.page.get_by_role("button", name="Acknowledge: I have seen this and am acting on it").click()
    expect(therapist.page.get_by_role("main")).to_contain_text("Acknowledged by Theo Treating")
    therapist.check()


def test_a_client_stops_half_way_and_finishes_in_the_portal_with_javascript(new_session: Callable[..., Session], world: World) -> None:
    administration, token = open_checkin(world, key="alliance")
    link = new_session(**PHONE)
    link.goto(f"/checkin/{token}/")
    _fits_the_screen(link)
    link.page.get_by_role("radio", name="8", exact=True).check()
    link.page.get_by_role("button", name="Next").click()
    expect(link.page.get_by_text("Question 2 of 4", exact=True)).to_be_visible()
    link.check()

    portal = new_session(**PHONE)
    portal.sign_in("cora@mail.example", second_factor=False)
    portal.page.get_by_role("region", name="Things to do").get_by_role("link", name="Answer your check-in: After-session check-in").click()
    page = portal.page
    expect(page.get_by_text("Question 2 of 4", exact=True)).to_be_visible()
    portal.check()
    _fits_the_screen(portal)
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_role("radio", name="8", exact=True)).to_be_checked()
    portal.check()
    page.get_by_role("button", name="Next").click()
    for _ in range(2):
        expect(page.get_by_role("progressbar")).to_be_visible()
        portal.check()
        page.get_by_role("radio", name="7", exact=True).check()
        page.get_by_role("button", name="Next").click()
    page.get_by_label("Anything you'd like me to know about today's session?", exact=False).fill("Fictional: a good pace today.")
    portal.check()
    page.get_by_role("button", name="Next", exact=False).click()
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    portal.check()
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    portal.check()
    administration.refresh_from_db()
    assert administration.status == AdministrationStatus.COMPLETED
    assert administration.answers == {"goals": 8, "tasks": 7, "bond": 7, "note": "Fictional: a good pace today."}
