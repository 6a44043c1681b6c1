"""The progress pages in Chromium: a partner's and the therapist's, from the plan pages, with axe on each."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from rapport.plans.models import GoalRating
from rapport.plans.services import goal_rate, plan_propose_goal
from tests.browser.conftest import Session
from tests.past_sessions import session_at
from tests.personas import World

LEVELS = {
    "-2": "We stop talking",
    "-1": "We argue most evenings",
    "0": "We talk calmly twice a week",
    "1": "Most evenings",
    "2": "Every day",
}


def _rated_plan(world: World) -> None:
    case = world.couple_case
    therapist, pat, quinn = world.user("therapist_a"), world.user("partner_a"), world.user("partner_b")
    joint = plan_propose_goal(actor=pat, case=case, words="We want to argue less about money", gas_levels=LEVELS)
    quinns = plan_propose_goal(actor=quinn, case=case, words="Quinn sleeps through the night", owner=world.partner_b)
    session = session_at(case, timezone.now() - timedelta(days=10))
    for actor, revision, level, days_ago in (
        (therapist, joint, -2, 10),
        (pat, joint, -1, 9),
        (quinn, quinns, 0, 8),
        (therapist, joint, 1, 1),
        (pat, joint, 1, 1),
    ):
        rating = goal_rate(
            actor=actor, item=revision.item, level=level, appointment=session if actor == therapist and days_ago == 10 else None
        )
        GoalRating.objects.filter(pk=rating.pk).update(rated_at=timezone.now() - timedelta(days=days_ago))


def test_a_partner_reads_how_the_goals_moved(session: Session, world: World) -> None:
    _rated_plan(world)
    page = session.page
    session.sign_in("pat@mail.example", second_factor=False)
    session.goto(f"/portal/cases/{world.couple_case.public_id}/plan/progress/")
    session.check()
    expect(page.get_by_role("heading", name="How our goals have moved", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Joint We want to argue less about money")).to_be_visible()
    expect(page.get_by_role("img").first).to_have_attribute("alt", re.compile(r"^We want to argue less about money\. .*-1 on "))
    expect(page.get_by_text("You: filled circles joined by a solid line")).to_be_visible()
    expect(page.get_by_role("cell", name="not linked to a session").first).to_be_visible()
    expect(page.get_by_text("Quinn sleeps through the night")).to_have_count(0)
    expect(page.get_by_text("T-score")).to_have_count(0)


def test_the_therapist_opens_goal_progress_from_the_plan(session: Session, world: World) -> None:
    _rated_plan(world)
    case = world.couple_case
    page = session.page
    session.sign_in("therapist.a@harbour.example", second_factor=True)
    session.goto(f"/workspace/cases/{case.public_id}/plan/")
    page.get_by_role("link", name="Goal progress over time").click()
    page.wait_for_url(f"**/cases/{case.public_id}/plan/progress/")
    session.check()
    expect(page.get_by_role("heading", name="Goal attainment T-score over time")).to_be_visible()
    expect(page.get_by_role("heading", name="Quinn Partner's own Quinn sleeps through the night")).to_be_visible()
    expect(page.get_by_role("cell", name="session of", exact=False).first).to_be_visible()
    # Every chart is an image with its words as alt text.
    for image in page.get_by_role("img").all():
        assert (image.get_attribute("alt") or "").strip()


def test_the_progress_page_reads_without_javascript(new_session, world: World) -> None:
    _rated_plan(world)
    session = new_session(javascript=False)
    session.sign_in("quinn@mail.example", second_factor=False)
    session.goto(f"/portal/cases/{world.couple_case.public_id}/plan/progress/")
    session.check()
    expect(session.page.get_by_text("Quinn sleeps through the night")).to_be_visible()
