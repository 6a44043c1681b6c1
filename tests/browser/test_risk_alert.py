"""A therapist sees a risk alert on their home page, reads it, and acknowledges it."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Session
from tests.checkins import CRISIS, risk_alert
from tests.personas import World


def test_therapist_sees_opens_and_acknowledges_a_risk_alert(session: Session, world: World) -> None:
    alert = risk_alert(world)
    page = session.page
    session.sign_in("therapist.a@harbour.example", second_factor=True)

    alerts = page.get_by_role("region", name="Check-ins that need attention now")
    expect(alerts).to_be_visible()
    session.check()
    alerts.get_by_role("link", name="Cora Client: Patient Health Questionnaire-9", exact=False).click()
    page.wait_for_url(f"**/workspace/alerts/{alert.public_id}/")
    session.check()
    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("A check-in needs attention: Cora Client")
    expect(main).to_contain_text("Thoughts that you would be better off dead or of hurting yourself in some way")
    expect(main).to_contain_text("More than half the days")
    expect(main).to_contain_text(CRISIS[0]["contact"])
    expect(main).to_contain_text("Not acknowledged yet")

    page.get_by_role("button", name="Acknowledge: I have seen this and am acting on it").click()
    page.wait_for_url(f"**/workspace/alerts/{alert.public_id}/")
    session.check()
    expect(main).to_contain_text("Acknowledged by Theo Treating")
    expect(page.get_by_role("button", name="Acknowledge: I have seen this and am acting on it")).to_have_count(0)

    session.goto("/workspace/")
    expect(page.get_by_role("region", name="Check-ins that need attention now")).to_have_count(0)
