"""The goal progress pages: per goal a chart, words and a table; the T-score for the therapist; couples kept apart."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rapport.audit.models import Action, AuditEvent
from rapport.plans.gas import t_score
from rapport.plans.models import GoalRating
from rapport.plans.services import goal_rate, plan_item_remove, plan_propose_goal
from rapport.reports.charts import written_date
from tests.past_sessions import session_at

TORONTO = ZoneInfo("America/Toronto")
LEVELS = {
    "-2": "We stop talking",
    "-1": "We argue most evenings",
    "0": "We talk calmly twice a week",
    "1": "Most evenings",
    "2": "Every day",
}


def _url(case, side: str) -> str:
    return reverse(f"{side}:case_goal_progress", kwargs={"case_id": case.public_id})


def _text(response) -> str:
    return " ".join(response.content.decode().split())


def _rate(actor, revision, level: int, when: datetime, appointment=None) -> GoalRating:
    rating = goal_rate(actor=actor, item=revision.item, level=level, appointment=appointment)
    # goal_rate dates a rating "now"; the history of a few weeks is set afterwards.
    GoalRating.objects.filter(pk=rating.pk).update(rated_at=when)
    return rating


def _svg(response, index: int = 0) -> str:
    uris = [part.split('"', 1)[0] for part in response.content.decode().split('src="data:image/svg+xml;base64,')[1:]]
    return base64.b64decode(uris[index]).decode()


@pytest.fixture
def couple_progress(world):
    """A joint goal with levels and each partner's own goal, rated by everyone over three weeks."""
    therapist, pat, quinn = world.user("therapist_a"), world.user("partner_a"), world.user("partner_b")
    joint = plan_propose_goal(actor=pat, case=world.couple_case, words="We want to argue less about money", gas_levels=LEVELS)
    pats = plan_propose_goal(actor=pat, case=world.couple_case, words="Pat wants to run twice a week", owner=world.partner_a)
    quinns = plan_propose_goal(actor=quinn, case=world.couple_case, words="Quinn wants to sleep better", owner=world.partner_b)
    first = session_at(world.couple_case, datetime(2026, 3, 3, 10, tzinfo=TORONTO))
    second = session_at(world.couple_case, datetime(2026, 3, 17, 10, tzinfo=TORONTO))
    _rate(therapist, joint, -2, datetime(2026, 3, 3, 11, tzinfo=TORONTO), first)
    _rate(therapist, joint, 1, datetime(2026, 3, 17, 11, tzinfo=TORONTO), second)
    _rate(therapist, quinns, 0, datetime(2026, 3, 17, 11, 5, tzinfo=TORONTO), second)
    _rate(pat, joint, -1, datetime(2026, 3, 4, 9, tzinfo=TORONTO))
    _rate(pat, joint, 2, datetime(2026, 3, 18, 9, tzinfo=TORONTO), second)
    _rate(pat, pats, 1, datetime(2026, 3, 18, 9, 1, tzinfo=TORONTO))
    _rate(quinn, joint, -2, datetime(2026, 3, 5, 20, tzinfo=TORONTO))
    _rate(quinn, quinns, -1, datetime(2026, 3, 5, 20, 1, tzinfo=TORONTO))
    return {"joint": joint, "pats": pats, "quinns": quinns, "first": first, "second": second}


# The client's page


def test_a_partner_sees_joint_and_own_goals_with_own_and_therapist_ratings_only(world, client_as, couple_progress):
    response = client_as("partner_a").get(_url(world.couple_case, "portal"))
    assert response.status_code == 200
    html = _text(response)
    assert "We want to argue less about money" in html
    assert "Pat wants to run twice a week" in html
    assert "Quinn wants to sleep better" not in html
    assert "Quinn Partner" not in html
    rows = [(row.who, row.level) for goal in response.context["page"].goals for row in goal.rows]
    # Pat's and the therapist's ratings of the joint goal and Pat's own: never Quinn's -2 of 5 March.
    assert rows == [("Your therapist", "-2"), ("You", "-1"), ("Your therapist", "+1"), ("You", "+2"), ("You", "+1")]
    assert "5 March 2026" not in html


def test_the_other_partners_ratings_are_absent_from_the_chart_image_too(world, client_as, couple_progress):
    response = client_as("partner_b").get(_url(world.couple_case, "portal"))
    joint_svg = _svg(response, 0)
    assert "Pat Partner" not in joint_svg
    # Pat's ratings of the joint goal (4 and 18 March) are neither drawn nor described.
    assert "4 March 2026" not in joint_svg
    assert "18 March 2026" not in joint_svg
    assert "-2 on 5 March 2026" in joint_svg  # Quinn's own rating
    assert "You" in joint_svg
    assert "Your therapist" in joint_svg
    assert "Pat wants to run" not in _text(response)


def test_the_client_reads_each_goal_in_words_a_legend_and_a_table_with_sessions(world, client_as, couple_progress):
    response = client_as("partner_a").get(_url(world.couple_case, "portal"))
    html = _text(response)
    joint = response.context["page"].goals[0]
    assert joint.legend == ("You: filled circles joined by a solid line", "Your therapist: open squares joined by a dashed line")
    assert "Your ratings moved from -1 on 4 March 2026 to +2 on 18 March 2026, 3 levels up (2 ratings)." in html
    assert "Your therapist&#x27;s ratings moved from -2 on 3 March 2026 to +1 on 17 March 2026, 3 levels up (2 ratings)." in html
    assert "+2: Every day" in html
    assert "<td>session of 17 March 2026</td>" in html
    assert "<td>not linked to a session</td>" in html
    # The image's alt text carries every rating.
    assert 'alt="We want to argue less about money.' in html
    assert "2 on 18 March 2026" in joint.description
    # The goal's own level descriptions are the y axis's meaning.
    assert "+2 Every day" in _svg(response, 0)


def test_a_client_is_shown_no_t_score(world, client_as, couple_progress):
    response = client_as("partner_a").get(_url(world.couple_case, "portal"))
    assert response.context["page"].t_score is None
    assert "T-score" not in response.content.decode()


def test_words_never_judge(world, client_as, couple_progress):
    for persona, side in (("partner_a", "portal"), ("therapist_a", "workspace")):
        html = _text(client_as(persona).get(_url(world.couple_case, side))).lower()
        for verdict in ("improved", "improvement", "worse", "success", "fail", "good progress"):
            assert verdict not in html, (persona, verdict)


def test_a_goal_nobody_rated_says_so(world, client_as):
    plan_propose_goal(actor=world.user("client"), case=world.individual_case, words="Cora wants to call her sister")
    response = client_as("client").get(_url(world.individual_case, "portal"))
    assert response.status_code == 200
    assert "Not rated yet." in _text(response)
    assert "data:image/svg+xml" not in response.content.decode()


def test_an_empty_plan_is_a_plain_page(world, client_as):
    response = client_as("client").get(_url(world.individual_case, "portal"))
    assert response.status_code == 200
    assert "There are no goals in the plan yet" in _text(response)


def test_a_removed_goal_is_left_out(world, client_as, couple_progress):
    plan_item_remove(actor=world.user("therapist_a"), revision=couple_progress["pats"])
    html = _text(client_as("partner_a").get(_url(world.couple_case, "portal")))
    assert "Pat wants to run twice a week" not in html
    assert "We want to argue less about money" in html


def test_the_client_page_is_recorded_as_a_read_of_the_readers_own_record(world, client_as, couple_progress):
    browser = client_as("partner_a")
    since = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    browser.get(_url(world.couple_case, "portal"))
    events = AuditEvent.objects.filter(id__gt=since, action=Action.VIEW, object_type="plans.plan")
    assert [str(e.client_id) for e in events] == [str(world.partner_a.public_id)]


# The therapist's page


def test_the_therapist_sees_every_goal_and_every_raters_line(world, client_as, couple_progress):
    response = client_as("therapist_a").get(_url(world.couple_case, "workspace"))
    assert response.status_code == 200
    html = _text(response)
    for words in ("We want to argue less about money", "Pat wants to run twice a week", "Quinn wants to sleep better"):
        assert words in html
    joint = response.context["page"].goals[0]
    assert [line.split(":")[0] for line in joint.legend] == ["Therapist", "Pat Partner", "Quinn Partner"]
    assert "Quinn Partner&#x27;s rating: -2 on 5 March 2026." in html
    assert "Quinn Partner&#x27;s own" in html


def test_the_therapist_sees_the_t_score_per_rater_and_day(world, client_as, couple_progress):
    response = client_as("therapist_a").get(_url(world.couple_case, "workspace"))
    chart = response.context["page"].t_score
    assert chart.columns == ("Therapist", "Pat Partner", "Quinn Partner")
    rows = {row.written_date: row.values for row in chart.rows}
    # 3 March: the therapist rated the joint goal only; 17 March: the joint goal +1 and Quinn's 0.
    assert rows["3 March 2026"][0] == f"{round(t_score([-2]), 1):g} (1 of 3 goals)"
    assert rows["17 March 2026"][0] == f"{round(t_score([1, 0]), 1):g} (2 of 3 goals)"
    assert rows["5 March 2026"][2] == f"{round(t_score([-2, -1]), 1):g} (2 of 3 goals)"
    html = _text(response)
    assert "The therapist&#x27;s ratings: moved from 30 on 3 March 2026 to" in html
    assert "Kiresuk TJ, Sherman RE" in html
    assert "Goal attainment T-score" in _svg(response, 0)


def test_the_t_score_uses_each_goals_weight(world, client_as):
    therapist = world.user("therapist_a")
    heavy = plan_propose_goal(actor=therapist, case=world.individual_case, words="Heavy goal", weight=3)
    light = plan_propose_goal(actor=therapist, case=world.individual_case, words="Light goal")
    day = datetime(2026, 4, 1, 12, tzinfo=TORONTO)
    _rate(therapist, heavy, 2, day)
    _rate(therapist, light, -1, day + timedelta(minutes=1))
    chart = client_as("therapist_a").get(_url(world.individual_case, "workspace")).context["page"].t_score
    assert chart.rows[0].values == (f"{round(t_score([2, -1], [3, 1]), 1):g} (all 2 goals)",)


def test_the_workspace_page_is_recorded_as_a_read_of_each_clients_record(world, client_as, couple_progress):
    browser = client_as("therapist_a")
    since = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    browser.get(_url(world.couple_case, "workspace"))
    events = AuditEvent.objects.filter(id__gt=since, action=Action.VIEW)
    assert sorted(str(e.client_id) for e in events) == sorted([str(world.partner_a.public_id), str(world.partner_b.public_id)])
    assert {e.object_type for e in events} == {"plans.plan"}


@pytest.mark.parametrize(
    ("persona", "side", "status"),
    [
        ("therapist_b", "workspace", 404),
        ("supervisor", "workspace", 403),
        ("admin", "workspace", 403),
        ("client", "portal", 404),
        ("partner_a", "workspace", 403),
        ("therapist_a", "portal", 403),
    ],
)
def test_only_the_cases_people_reach_the_pages(world, client_as, couple_progress, persona, side, status):
    assert client_as(persona).get(_url(world.couple_case, side)).status_code == status


# Query counts


def _add_rated_goals(world, count: int) -> None:
    therapist, pat = world.user("therapist_a"), world.user("partner_a")
    for n in range(count):
        revision = plan_propose_goal(actor=pat, case=world.couple_case, words=f"Extra goal {n}", gas_levels=LEVELS)
        session = session_at(world.couple_case, datetime(2026, 4, 1 + n, 10, tzinfo=TORONTO))
        _rate(therapist, revision, n % 5 - 2, datetime(2026, 4, 1 + n, 11, tzinfo=TORONTO), session)
        _rate(pat, revision, 0, datetime(2026, 4, 1 + n, 12, tzinfo=TORONTO))


@pytest.mark.parametrize(("persona", "side"), [("therapist_a", "workspace"), ("partner_a", "portal")])
def test_the_pages_cost_the_same_queries_whatever_the_number_of_goals_and_ratings(
    world, client_as, couple_progress, django_assert_num_queries, persona, side
):
    browser = client_as(persona)
    url = _url(world.couple_case, side)
    browser.get(url)  # the first request of a session also writes the session
    with CaptureQueriesContext(connection) as control:
        browser.get(url)
    _add_rated_goals(world, 4)
    with django_assert_num_queries(len(control)):
        response = browser.get(url)
    assert len(response.context["page"].goals) == (7 if persona == "therapist_a" else 6)


# Rating for a session, on the therapist's plan page


def _plan_url(case) -> str:
    return reverse("workspace:case_plan", kwargs={"case_id": case.public_id})


@pytest.fixture
def sessions(world):
    now = timezone.now()
    case = world.individual_case
    return {
        "older": session_at(case, now - timedelta(days=9)),
        "recent": session_at(case, now - timedelta(days=1)),
        "later": session_at(case, now + timedelta(days=3), status="booked"),
        "cancelled": session_at(case, now - timedelta(days=2), status="cancelled"),
        "other_case": session_at(world.couple_case, now - timedelta(days=1, hours=3)),
    }


def test_the_rating_form_offers_the_cases_sessions_newest_first_with_the_latest_chosen(world, client_as, sessions):
    goal = plan_propose_goal(actor=world.user("client"), case=world.individual_case, words="Call my sister")
    response = client_as("therapist_a").get(_plan_url(world.individual_case))
    form = response.context["goals"][0].forms["rate"]
    values = [value for value, _ in form.fields["session"].choices]
    assert values == ["", str(sessions["recent"].public_id), str(sessions["older"].public_id)]
    assert form.fields["session"].choices[0][1] == "Not linked to a session"
    assert form.initial["session"] == str(sessions["recent"].public_id)
    assert str(goal.public_id) in response.content.decode()


def test_a_rating_saved_for_a_session_shows_that_session_on_the_plan_and_progress_pages(world, client_as, sessions):
    goal = plan_propose_goal(actor=world.user("client"), case=world.individual_case, words="Call my sister")
    browser = client_as("therapist_a")
    data = {"form": "rate", "revision": str(goal.public_id), "level": "1", "session": str(sessions["older"].public_id)}
    assert browser.post(_plan_url(world.individual_case), data).status_code == 303
    rating = GoalRating.objects.get()
    assert rating.appointment == sessions["older"]
    session_day = written_date(sessions["older"].start.astimezone(TORONTO))
    assert f"(session of {session_day})" in _text(browser.get(_plan_url(world.individual_case)))
    assert f"<td>session of {session_day}</td>" in _text(browser.get(_url(world.individual_case, "workspace")))


def test_a_rating_may_be_linked_to_no_session(world, client_as, sessions):
    goal = plan_propose_goal(actor=world.user("client"), case=world.individual_case, words="Call my sister")
    browser = client_as("therapist_a")
    data = {"form": "rate", "revision": str(goal.public_id), "level": "0", "session": ""}
    assert browser.post(_plan_url(world.individual_case), data).status_code == 303
    assert GoalRating.objects.get().appointment is None
    assert "(not linked to a session)" in _text(browser.get(_plan_url(world.individual_case)))


@pytest.mark.parametrize("which", ["other_case", "cancelled", "later", "made_up", "not_a_uuid"])
def test_a_session_not_offered_is_refused_with_a_message_and_nothing_is_saved(world, client_as, sessions, which):
    goal = plan_propose_goal(actor=world.user("client"), case=world.individual_case, words="Call my sister")
    value = {"made_up": "00000000-0000-4000-8000-000000000001", "not_a_uuid": "yesterday"}.get(which) or str(sessions[which].public_id)
    before = AuditEvent.objects.exclude(action__in=[Action.VIEW, Action.LOGIN]).count()
    data = {"form": "rate", "revision": str(goal.public_id), "level": "1", "session": value}
    response = client_as("therapist_a").post(_plan_url(world.individual_case), data)
    assert response.status_code == 400
    assert "That is not one of this case&#x27;s sessions." in response.content.decode()
    assert "Nothing was changed." in response.content.decode()
    assert not GoalRating.objects.exists()
    assert AuditEvent.objects.exclude(action__in=[Action.VIEW, Action.LOGIN]).count() == before


def test_the_plan_page_reads_every_ratings_session_in_one_query(world, client_as, sessions):
    therapist = world.user("therapist_a")
    goal = plan_propose_goal(actor=world.user("client"), case=world.individual_case, words="Call my sister")
    goal_rate(actor=therapist, item=goal.item, level=-1, appointment=sessions["older"])
    browser = client_as("therapist_a")
    browser.get(_plan_url(world.individual_case))
    with CaptureQueriesContext(connection) as control:
        browser.get(_plan_url(world.individual_case))
    for level, session in ((0, sessions["recent"]), (1, sessions["older"])):
        goal_rate(actor=therapist, item=goal.item, level=level, appointment=session)
        goal_rate(actor=world.user("client"), item=goal.item, level=level, appointment=session)
    with CaptureQueriesContext(connection) as after:
        browser.get(_plan_url(world.individual_case))
    assert len(after) == len(control)
