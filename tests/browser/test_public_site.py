"""The practice's public pages, as an anonymous visitor sees them."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import Session, axe_violations
from tests.personas import World


def test_anonymous_visitor_sees_the_practice_home_page(session: Session, world: World) -> None:
    session.goto("/")
    page = session.page

    expect(page).to_have_title("Harbour Therapy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Therapy")
    services = page.get_by_role("region", name="How we can work together")
    for name in ("Free 15-minute online consultation", "Individual session", "Couples session"):
        expect(services.get_by_role("heading", name=name)).to_be_visible()
    therapists = page.get_by_role("region", name="Our therapists")
    expect(therapists.get_by_role("heading", name="Theo Treating")).to_be_visible()
    expect(therapists.get_by_role("heading", name="Bea Bystander")).to_be_visible()
    # Only the public practice's people: nobody from the other practice, no clients.
    expect(page.get_by_text("Otto Other")).to_have_count(0)
    expect(page.get_by_text("Cora Client")).to_have_count(0)
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_a_content_security_policy_violation_would_fail_the_journey(session: Session, world: World) -> None:
    """The CSP check listens to the console; prove it hears a violation, so silence means something."""
    session.goto("/")
    with session.page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        session.page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img alt=\"\" src=\"https://example.invalid/x.png\">')")
    assert session.checks.csp_violations, "the console listener missed a CSP violation"
    session.checks.csp_violations.clear()


def test_an_accessibility_violation_would_fail_the_journey(session: Session, world: World) -> None:
    """The axe check reports what it should; prove it on a deliberately broken page."""
    session.goto("/")
    session.page.evaluate("document.querySelector('h1').insertAdjacentHTML('afterend', '<img src=\"/static/css/rapport.css\">')")
    assert "image-alt" in {violation["id"] for violation in axe_violations(session.page)}
