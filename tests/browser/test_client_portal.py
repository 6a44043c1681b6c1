"""Clients and partners in the portal: their own therapy, nothing of anyone else's, on any screen."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.browser.conftest import Session
from tests.personas import World

# An iPhone-sized screen: the smallest width the portal is designed for.
PHONE = {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def test_client_signs_in_with_a_password_and_sees_their_therapy_but_not_the_working_summary(session: Session, world: World) -> None:
    page = session.page
    session.sign_in("cora@mail.example", second_factor=False)

    assert session.path() == "/portal/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Cora")
    therapy = page.get_by_role("region", name="Your therapy")
    # One case: its own page, and its treatment plan.
    expect(therapy.get_by_role("link")).to_have_count(2)
    expect(therapy.get_by_role("link", name="My plan for individual therapy")).to_have_count(1)
    therapy.get_by_role("link", name="Individual therapy with Theo Treating").click()

    page.wait_for_url(f"**/portal/cases/{world.individual_case.public_id}/")
    session.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Individual therapy")
    expect(page.get_by_role("main")).to_contain_text("Theo Treating")
    content = page.content()
    assert "Fictional summary for Cora." not in content
    assert "Working summary" not in content


def test_partner_sees_the_couple_case_but_gets_not_found_for_another_clients_case(session: Session, world: World) -> None:
    page = session.page
    session.sign_in("quinn@mail.example", second_factor=False)

    assert session.path() == "/portal/"
    therapy = page.get_by_role("region", name="Your therapy")
    # The joint case only: its own page, and its treatment plan.
    expect(therapy.get_by_role("link")).to_have_count(2)
    expect(therapy.get_by_role("link", name="Our plan for couple therapy")).to_have_count(1)
    therapy.get_by_role("link", name="Couple therapy with Theo Treating").click()
    page.wait_for_url(f"**/portal/cases/{world.couple_case.public_id}/")
    session.check()
    expect(page.get_by_role("main")).to_contain_text("Pat Partner and Quinn Partner")

    session.goto(f"/portal/cases/{world.individual_case.public_id}/", status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    content = page.content()
    assert "Cora" not in content
    assert "Fictional summary for Cora." not in content


def test_portal_fits_a_phone_screen_without_sideways_scrolling(new_session: Callable[..., Session], world: World) -> None:
    session = new_session(**PHONE)
    page = session.page
    session.sign_in("cora@mail.example", second_factor=False)
    assert session.path() == "/portal/"

    def scroll_width() -> int:
        return page.evaluate("document.scrollingElement.scrollWidth")

    assert scroll_width() <= 375, f"the portal home is {scroll_width()} px wide on a 375 px screen"
    page.get_by_role("link", name="Individual therapy with Theo Treating").click()
    page.wait_for_url(f"**/portal/cases/{world.individual_case.public_id}/")
    session.check()
    assert scroll_width() <= 375, f"the therapy page is {scroll_width()} px wide on a 375 px screen"
