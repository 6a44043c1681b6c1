"""Check-in results in Chromium: the client's own page on a phone, and the therapist's case page.

Each chart is an <img> whose alt text is the chart in words, drawn under the site's CSP (the
session's checks fail on any CSP violation and on any serious or critical axe finding).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import expect

from tests.browser.conftest import Session
from tests.personas import World
from tests.results import cora_course, couple_course

PHONE = {"viewport": {"width": 390, "height": 844}, "timezone_id": "America/Toronto"}


DATA_URI = re.compile(r"^data:image/svg\+xml;base64,")


def test_a_client_reads_their_results_on_a_phone(new_session: Callable[..., Session], world: World) -> None:
    cora_course(world)
    session = new_session(**PHONE)
    page = session.page
    session.sign_in("cora@mail.example", second_factor=False)
    page.get_by_role("link", name="My check-in results").click()
    page.wait_for_url("**/portal/results/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("My check-in results")
    section = page.get_by_role("region", name="Patient Health Questionnaire-9")
    expect(section).to_contain_text("is 9 points lower than your first")
    image = section.get_by_role("img")
    expect(image).to_have_attribute("alt", re.compile(r"^Your PHQ-9 scores\. Your scores over time\. You, from 3 March 2026"))
    expect(image).to_have_attribute("src", DATA_URI)
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    table = section.get_by_role("table")
    expect(table.get_by_role("row")).to_have_count(6)  # the header and five check-ins
    expect(table).to_contain_text("16 (prorated)")
    expect(section).not_to_contain_text("Moderately severe")


def test_the_therapist_reads_a_couples_results_side_by_side_and_opens_a_check_in(session: Session, world: World) -> None:
    couple_course(world)
    page = session.page
    session.sign_in("therapist.a@harbour.example", second_factor=True)
    session.goto(f"/workspace/cases/{world.couple_case.public_id}/")
    page.get_by_role("link", name="Check-in results").click()
    page.wait_for_url(f"**/workspace/cases/{world.couple_case.public_id}/measures/")
    session.check()
    section = page.get_by_role("region", name="Before-session check-in")
    image = section.get_by_role("img")
    expect(image).to_have_attribute("alt", re.compile(r"Pat Partner, from .* Quinn Partner, from "))
    expect(image).to_have_attribute("src", DATA_URI)
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    header = section.get_by_role("table").get_by_role("row").first
    expect(header).to_contain_text("Pat Partner")
    expect(header).to_contain_text("Quinn Partner")
    expect(section).to_contain_text("not clinically validated")

    page.get_by_role("link", name="Read the answers of Pat Partner, After-session check-in", exact=False).click()
    session.check()
    expect(page.get_by_role("main")).to_contain_text("it was hard to talk with Quinn in the room today.")
