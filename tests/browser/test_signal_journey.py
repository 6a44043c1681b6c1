"""From a check-in that suggests a rupture to the therapist acknowledging it on the briefing, in Chromium (axe on every page).

Cora has rated three sessions 9 out of 10 on goals, tasks and bond. After her last session she
answers 5, 5 and 5 on her phone. Once her answers are saved, the detectors run and store a marked
drop. Before today's session her therapist goes from today's list to the briefing, finds the signal
with its numbers, its rule and a next step, and acknowledges it there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone
from playwright.sync_api import expect

from rapport.insights.models import Signal, SignalKind, SignalStatus
from rapport.measures.models import Timing
from tests.answering import open_checkin
from tests.briefings import session as make_session
from tests.browser.conftest import Session
from tests.browser.test_client_portal import PHONE
from tests.personas import World
from tests.results import sent, when


def test_a_rupture_from_the_check_in_to_the_acknowledgement(session: Session, new_session: Callable[..., Session], world: World) -> None:
    for day in (3, 10, 17):
        sent(world.client, world.individual_case, "alliance", {"goals": 9, "tasks": 9, "bond": 9}, when(3, day, 18), timing=Timing.AFTER)
    assert not Signal.objects.exists()
    open_checkin(world, key="alliance")

    cora = new_session(**PHONE)
    cora.sign_in("cora@mail.example", second_factor=False)
    cora.page.get_by_role("region", name="Things to do").get_by_role("link", name="Answer your check-in: After-session check-in").click()
    for _ in range(3):
        cora.check()
        cora.page.get_by_role("radio", name="5", exact=True).check()
        cora.page.get_by_role("button", name="Next").click()
    cora.check()
    cora.page.get_by_role("button", name="Next", exact=False).click()
    expect(cora.page.get_by_role("heading", name="Check your answers")).to_be_visible()
    cora.check()
    cora.page.get_by_role("button", name="Send my answers").click()
    expect(cora.page.get_by_role("heading", level=1)).to_have_text("Thank you")
    cora.check()
    # The client is never shown signal language.
    expect(cora.page.get_by_role("main")).not_to_contain_text("rupture")

    [signal] = Signal.objects.all()
    assert (signal.kind, signal.client, signal.severity) == (SignalKind.RUPTURE, world.client, 3)

    zone = ZoneInfo(world.therapist_a.time_zone)
    today = timezone.now().astimezone(zone).date()
    upcoming = make_session(world.therapist_a, world.individual_case, datetime.combine(today, time(12), tzinfo=zone))

    therapist = session
    therapist.sign_in("therapist.a@harbour.example", second_factor=True)
    therapist.goto("/workspace/")
    today_list = therapist.page.get_by_role("region", name="Today's sessions")
    expect(today_list).to_contain_text("1 open signal")
    therapist.check()
    today_list.get_by_role("link", name=re.compile("^Briefing")).click()
    therapist.page.wait_for_url(f"**/workspace/appointments/{upcoming.public_id}/briefing/")
    card = therapist.page.get_by_role("region", name="Open signals").get_by_role("article", name="Possible alliance rupture: Cora Client")
    expect(card).to_contain_text("a marked drop from a recent mean of 27.0 to 15")
    expect(card).to_contain_text("worth a look before the next session")
    card.get_by_text("Rapport's rule: A drop against the client's own recent check-ins").click()
    expect(card).to_contain_text("BMC Med Res Methodol 2012")
    therapist.check()
    card.get_by_role("button", name=re.compile(r"^Acknowledge")).click()
    therapist.page.wait_for_url(f"**/workspace/appointments/{upcoming.public_id}/briefing/**")
    expect(therapist.page.get_by_role("status")).to_contain_text("Acknowledged.")
    expect(therapist.page.get_by_role("region", name="Open signals")).to_contain_text("Acknowledged by")
    therapist.check()
    signal.refresh_from_db()
    assert signal.status == SignalStatus.ACKNOWLEDGED
