"""The briefing and today's sessions in Chromium: readable, accessible (axe), working under the CSP.

A therapist opens the home page, follows a session's "Briefing" link, reads both partners' alliance
charts with their alt text and tables, and acknowledges a signal from the briefing (which brings
them back to it).
"""

from __future__ import annotations

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone
from playwright.sync_api import expect

from rapport.insights.models import Signal
from rapport.insights.services import signals_detect
from rapport.measures.models import Timing
from tests.briefings import for_session
from tests.briefings import session as make_session
from tests.browser.conftest import Session
from tests.personas import World
from tests.results import phq9, sent, when

AGENDA = "Fictional: Quinn wants to talk about the holidays with the family."
DATA_URI = re.compile(r"^data:image/svg\+xml;base64,")


def test_the_therapist_goes_from_today_to_a_briefing_and_acknowledges_a_signal(session: Session, world: World) -> None:
    zone = ZoneInfo(world.therapist_a.time_zone)
    case = world.couple_case
    today = timezone.now().astimezone(zone).date()
    upcoming = make_session(world.therapist_a, case, datetime.combine(today, time(12), tzinfo=zone))
    sent(world.partner_a, case, "alliance", {"goals": 9, "tasks": 9, "bond": 9}, when(3, 3, 18), timing=Timing.AFTER)
    sent(world.partner_b, case, "alliance", {"goals": 6, "tasks": 5, "bond": 3}, when(3, 3, 18), timing=Timing.AFTER)
    sent(world.partner_a, case, "phq9", phq9(15), when(3, 3))
    sent(world.partner_a, case, "phq9", phq9(8), when(3, 17))
    for_session(sent(world.partner_b, case, "presession", {"week": 4, "agenda": AGENDA}, timezone.now()), upcoming)
    signals_detect(case, now=when(3, 4))
    # The check-ins' own triggers may have stored some already (transactions commit in this test).
    detected = Signal.objects.filter(case=case).count()

    page = session.page
    session.sign_in("therapist.a@harbour.example", second_factor=True)
    session.goto("/workspace/")
    session.check()
    today_list = page.get_by_role("region", name="Today's sessions")
    expect(today_list).to_contain_text(f"{detected} open signals")
    expect(today_list).to_contain_text("Check-ins 1 of 1 sent")
    today_list.get_by_role("link", name=re.compile("^Briefing")).click()
    page.wait_for_url(f"**/workspace/appointments/{upcoming.public_id}/briefing/")
    session.check()

    expect(page.get_by_role("heading", level=1)).to_have_text("Briefing: Pat Partner & Quinn Partner")
    expect(page.get_by_role("region", name="What they want to talk about")).to_contain_text(AGENDA)
    alliance = page.get_by_role("region", name="Alliance after each session")
    for name in ("Pat Partner", "Quinn Partner"):
        image = alliance.get_by_role("img", name=re.compile(f"^{name}: after-session ratings"))
        expect(image).to_have_attribute("src", DATA_URI)
        assert image.evaluate("img => img.complete && img.naturalWidth > 0")
        expect(alliance.get_by_role("table", name=f"{name}: after-session ratings")).to_be_visible()
    outcomes = page.get_by_role("region", name="Outcome questionnaires")
    expect(outcomes).to_contain_text("reliable improvement")

    signals = page.get_by_role("region", name="Open signals")
    expect(signals.get_by_role("heading", level=3)).to_have_count(detected)
    signals.get_by_role("button", name=re.compile(r"^Acknowledge\b.*Split alliance")).click()
    page.wait_for_url(f"**/workspace/appointments/{upcoming.public_id}/briefing/**")
    session.check()
    expect(page.get_by_role("status")).to_contain_text("Acknowledged.")
    expect(page.get_by_role("region", name="Open signals")).to_contain_text("Acknowledged by Theo Treating")
