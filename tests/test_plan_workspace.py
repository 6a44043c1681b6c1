"""The therapist's treatment plan page: reading the plan, each form, refusals that change nothing, history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse

from rapport.audit.models import Action, AuditEvent
from rapport.plans.gas import t_score
from rapport.plans.models import ActionStep, GoalRating, ItemRevision, PlanItem, PlanVersion
from rapport.plans.services import goal_rate, plan_add_approach, plan_agree_item, plan_propose_goal

LEVELS = {-2: "We stop talking", -1: "We argue most evenings", 0: "We talk calmly twice a week", 1: "Most evenings", 2: "Every day"}


def _url(case, name: str = "workspace:case_plan", **extra) -> str:
    return reverse(name, kwargs={"case_id": case.public_id, **extra})


def _level_fields(levels: dict[int, str]) -> dict[str, str]:
    return {f"level_{level}": text for level, text in levels.items()}


def _snapshot() -> tuple[int, int, int, int, int]:
    # A refused form shows the plan again (a read) and signing in is recorded too; neither is a change.
    writes = AuditEvent.objects.exclude(action__in=[Action.VIEW, Action.LOGIN])
    return (
        PlanVersion.objects.count(),
        ItemRevision.objects.count(),
        GoalRating.objects.count(),
        ActionStep.objects.count(),
        writes.count(),
    )


def _last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.fixture
def couple_plan(world):
    """A joint goal in Pat's words that Pat agrees to and Quinn wants to talk about, Quinn's own goal, and a joint approach."""
    joint = plan_propose_goal(
        actor=world.user("partner_a"), case=world.couple_case, words="We want to argue less about money", gas_levels=LEVELS
    )
    plan_agree_item(actor=world.user("partner_a"), revision=joint, choice="agree", comment="Yes, this is it")
    plan_agree_item(actor=world.user("partner_b"), revision=joint, choice="talk", comment="Money is not the only thing")
    own = plan_propose_goal(actor=world.user("partner_b"), case=world.couple_case, words="I want to sleep better", owner=world.partner_b)
    plan_agree_item(actor=world.user("partner_b"), revision=own, choice="agree")
    approach = plan_add_approach(actor=world.user("therapist_a"), case=world.couple_case, words="We meet every two weeks")
    return {"joint": joint, "own": own, "approach": approach}


# Reading


def test_the_page_shows_every_item_with_its_author_answers_and_state(world, client_as, couple_plan):
    response = client_as("therapist_a").get(_url(world.couple_case))
    assert response.status_code == 200
    html = " ".join(response.content.decode().split())
    assert "We want to argue less about money" in html
    assert "Quinn Partner&#x27;s own" in html
    assert "I want to sleep better" in html
    assert "We meet every two weeks" in html
    assert "Words written by Pat Partner" in html
    assert "Quinn Partner: I want to talk about it — “Money is not the only thing”" in html
    assert "Pat Partner: I agree — “Yes, this is it”" in html
    assert "A difference: the partners answered differently" in html
    assert "Waiting for Pat Partner and Quinn Partner" in html  # the approach nobody has answered yet
    assert "We talk calmly twice a week" in html


def test_items_needing_attention_come_first_and_an_agreed_item_is_not_among_them(world, client_as, couple_plan):
    response = client_as("therapist_a").get(_url(world.couple_case))
    needing = [row.view.revision for row in response.context["needing"]]
    assert needing == [couple_plan["joint"], couple_plan["approach"]]
    html = response.content.decode()
    assert html.index("Needs attention") < html.index('id="goals-heading"')


def test_opening_the_page_is_recorded_as_a_read_of_each_clients_record(world, client_as, couple_plan):
    since = _last_audit_id()
    client_as("therapist_a").get(_url(world.couple_case))
    events = AuditEvent.objects.filter(id__gt=since, action=Action.VIEW)
    assert sorted(str(e.client_id) for e in events) == sorted([str(world.partner_a.public_id), str(world.partner_b.public_id)])
    assert {e.object_type for e in events} == {"plans.plan"}


def test_the_t_score_uses_the_latest_therapist_rating_of_every_goal(world, client_as, couple_plan):
    therapist = world.user("therapist_a")
    page = client_as("therapist_a")
    assert page.get(_url(world.couple_case)).context["t_score"] is None
    goal_rate(actor=therapist, item=couple_plan["joint"].item, level=-1)
    goal_rate(actor=therapist, item=couple_plan["joint"].item, level=1)
    # A client's rating is shown but never enters the therapist's T-score.
    goal_rate(actor=world.user("partner_b"), item=couple_plan["own"].item, level=-2)
    assert page.get(_url(world.couple_case)).context["t_score"] is None
    goal_rate(actor=therapist, item=couple_plan["own"].item, level=2)
    response = page.get(_url(world.couple_case))
    score = response.context["t_score"]
    assert score.value == pytest.approx(t_score([1, 2]))
    assert [level for _, level, _ in score.ratings] == [1, 2]
    html = " ".join(response.content.decode().split())
    assert f"Goal attainment T-score: {t_score([1, 2]):.1f}" in html
    assert "From your latest rating of each goal, every goal weighted equally" in html
    latest = dict(response.context["goals"][1].latest)
    assert latest["Therapist"].level == 2
    assert latest["Quinn Partner"].level == -2


# Forms


def test_the_therapist_drafts_a_joint_goal_with_levels_and_weight(world, client_as):
    data = {
        "form": "goal",
        "words": "Talk about money once a week",
        "owner": "",
        "framing": "A calm, fixed moment",
        "weight": "3",
        **_level_fields(LEVELS),
    }
    response = client_as("therapist_a").post(_url(world.couple_case), data)
    assert response.status_code == 303
    assert response["Location"] == _url(world.couple_case)
    revision = ItemRevision.objects.get()
    assert revision.client_words == "Talk about money once a week"
    assert revision.therapist_framing == "A calm, fixed moment"
    assert revision.weight == 3
    assert revision.gas_levels["0"] == LEVELS[0]
    assert revision.item.owner is None
    assert revision.written_by == world.user("therapist_a")


def test_the_therapist_drafts_one_partners_goal_and_an_approach(world, client_as):
    page = client_as("therapist_a")
    assert (
        page.post(
            _url(world.couple_case), {"form": "goal", "words": "Walk each morning", "owner": str(world.partner_a.public_id)}
        ).status_code
        == 303
    )
    assert page.post(_url(world.couple_case), {"form": "approach", "words": "Sessions every two weeks"}).status_code == 303
    goal, approach = PlanItem.objects.order_by("id")
    assert goal.owner == world.partner_a
    assert goal.kind == "goal"
    assert approach.owner is None
    assert approach.kind == "approach"


def test_a_goal_with_only_some_levels_is_refused_keeping_the_typed_text(world, client_as):
    before = _snapshot()
    data = {"form": "goal", "words": "My typed goal stays", "level_0": "", "level_1": "A little more"}
    response = client_as("therapist_a").post(_url(world.couple_case), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Level 0, the expected outcome, needs a description." in html
    assert "Nothing was changed." in html
    assert "My typed goal stays" in html
    assert "A little more" in html
    assert _snapshot() == before


def test_an_empty_goal_and_a_weight_out_of_range_are_refused(world, client_as):
    before = _snapshot()
    page = client_as("therapist_a")
    assert "This field is required" in page.post(_url(world.couple_case), {"form": "goal", "words": "  "}).content.decode()
    response = page.post(_url(world.couple_case), {"form": "goal", "words": "Fine words", "weight": "101"})
    assert response.status_code == 400
    assert "Weight" in response.content.decode()
    assert page.post(_url(world.couple_case), {"form": "nonsense"}).status_code == 400
    assert _snapshot() == before


def test_framing_beside_a_clients_words_is_saved_and_her_words_are_kept(world, client_as, couple_plan):
    joint = couple_plan["joint"]
    response = client_as("therapist_a").post(
        _url(world.couple_case), {"form": "framing", "revision": str(joint.public_id), "framing": "Money stands for fairness here"}
    )
    assert response.status_code == 303
    new = joint.item.revisions.order_by("-number").first()
    assert new.therapist_framing == "Money stands for fairness here"
    assert new.client_words == "We want to argue less about money"
    assert new.written_by == world.user("partner_a")


def test_rewriting_a_clients_words_is_refused_and_changes_nothing(world, client_as, couple_plan):
    joint = couple_plan["joint"]
    before = _snapshot()
    data = {"form": "framing", "revision": str(joint.public_id), "framing": "Framing typed here", "words": "Better words by the therapist"}
    response = client_as("therapist_a").post(_url(world.couple_case), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Only the person who wrote these words may change them" in html
    assert "Framing typed here" in html
    assert _snapshot() == before


def test_the_therapist_may_reword_her_own_draft(world, client_as, couple_plan):
    approach = couple_plan["approach"]
    data = {"form": "framing", "revision": str(approach.public_id), "framing": "", "words": "We meet every week"}
    assert client_as("therapist_a").post(_url(world.couple_case), data).status_code == 303
    assert approach.item.revisions.order_by("-number").first().client_words == "We meet every week"


def test_a_stale_form_is_refused(world, client_as, couple_plan):
    joint = couple_plan["joint"]
    page = client_as("therapist_a")
    assert page.post(_url(world.couple_case), {"form": "framing", "revision": str(joint.public_id), "framing": "First"}).status_code == 303
    before = _snapshot()
    response = page.post(_url(world.couple_case), {"form": "framing", "revision": str(joint.public_id), "framing": "Second"})
    assert response.status_code == 400
    assert "has changed since you opened it" in response.content.decode()
    assert _snapshot() == before


def test_removing_an_item_keeps_it_in_the_old_version(world, client_as, couple_plan):
    approach = couple_plan["approach"]
    page = client_as("therapist_a")
    assert page.post(_url(world.couple_case), {"form": "remove", "revision": str(approach.public_id)}).status_code == 303
    assert "We meet every two weeks" not in page.get(_url(world.couple_case)).content.decode()
    old = page.get(_url(world.couple_case, "workspace:case_plan_version", number=approach.version.number))
    assert old.status_code == 200
    assert "We meet every two weeks" in old.content.decode()


def test_rating_a_goal_and_an_out_of_range_rating(world, client_as, couple_plan):
    joint = couple_plan["joint"]
    page = client_as("therapist_a")
    assert page.post(_url(world.couple_case), {"form": "rate", "revision": str(joint.public_id), "level": "1"}).status_code == 303
    rating = GoalRating.objects.get()
    assert (rating.level, rating.client, rating.rater) == (1, None, world.user("therapist_a"))
    before = _snapshot()
    for level in ("3", "-3", "one", ""):
        response = page.post(_url(world.couple_case), {"form": "rate", "revision": str(joint.public_id), "level": level})
        assert response.status_code == 400, level
        assert "Nothing was changed." in response.content.decode()
    assert _snapshot() == before


def test_an_approach_cannot_be_rated(world, client_as, couple_plan):
    before = _snapshot()
    response = client_as("therapist_a").post(
        _url(world.couple_case), {"form": "rate", "revision": str(couple_plan["approach"].public_id), "level": "0"}
    )
    assert response.status_code == 400
    assert "Only goals" in response.content.decode()
    assert _snapshot() == before


def test_adding_an_action_step_for_both_and_for_one_partner(world, client_as, couple_plan):
    joint = couple_plan["joint"]
    page = client_as("therapist_a")
    assert (
        page.post(
            _url(world.couple_case), {"form": "step", "revision": str(joint.public_id), "text": "List the bills together", "step_for": ""}
        ).status_code
        == 303
    )
    data = {
        "form": "step",
        "revision": str(joint.public_id),
        "text": "Note one calm talk",
        "step_for": str(world.partner_b.public_id),
        "due_on": "2030-01-15",
    }
    assert page.post(_url(world.couple_case), data).status_code == 303
    both, quinn = ActionStep.objects.order_by("id")
    assert both.client is None
    assert both.text == "List the bills together"
    assert quinn.client == world.partner_b
    assert str(quinn.due_on) == "2030-01-15"
    assert "Note one calm talk" in page.get(_url(world.couple_case)).content.decode()


def test_a_bad_due_date_keeps_the_typed_step(world, client_as, couple_plan):
    before = _snapshot()
    data = {"form": "step", "revision": str(couple_plan["joint"].public_id), "text": "Typed step text", "due_on": "not a date"}
    response = client_as("therapist_a").post(_url(world.couple_case), data)
    assert response.status_code == 400
    assert "Typed step text" in response.content.decode()
    assert _snapshot() == before


def test_writes_are_audited(world, client_as, couple_plan):
    since = _last_audit_id()
    client_as("therapist_a").post(_url(world.couple_case), {"form": "rate", "revision": str(couple_plan["own"].public_id), "level": "0"})
    event = AuditEvent.objects.get(id__gt=since, action=Action.CREATE)
    # Quinn's own goal: recorded against Quinn's record only.
    assert (event.object_type, str(event.client_id)) == ("plans.rating", str(world.partner_b.public_id))


# Tampering and refusals


@pytest.mark.parametrize("revision", ["not-a-uuid", "3f1c2a9e-0000-4000-8000-00000000beef", ""])
def test_a_tampered_item_id_is_404_and_changes_nothing(world, client_as, couple_plan, revision):
    before = _snapshot()
    response = client_as("therapist_a").post(_url(world.couple_case), {"form": "rate", "revision": revision, "level": "0"})
    assert response.status_code == 404
    assert _snapshot() == before


def test_another_cases_item_is_404(world, client_as, couple_plan):
    cora = plan_propose_goal(actor=world.user("client"), case=world.individual_case, words="Sleep before midnight")
    before = _snapshot()
    response = client_as("therapist_a").post(_url(world.couple_case), {"form": "remove", "revision": str(cora.public_id)})
    assert response.status_code == 404
    assert _snapshot() == before


def test_a_supervisor_and_the_admin_are_refused_and_another_therapist_gets_404(world, client_as, couple_plan):
    for persona, status in (("supervisor", 403), ("admin", 403), ("therapist_b", 404)):
        page = client_as(persona)
        before = _snapshot()
        for url in (
            _url(world.couple_case),
            _url(world.couple_case, "workspace:case_plan_versions"),
            _url(world.couple_case, "workspace:case_plan_version", number=1),
        ):
            assert page.get(url).status_code == status, (persona, url)
        response = page.post(_url(world.couple_case), {"form": "rate", "revision": str(couple_plan["joint"].public_id), "level": "0"})
        assert response.status_code == status, persona
        assert _snapshot() == before


def test_a_post_without_the_csrf_token_is_refused(world, couple_plan):
    page = DjangoClient(enforce_csrf_checks=True)
    page.force_login(world.user("therapist_a"), backend="django.contrib.auth.backends.ModelBackend")
    before = _snapshot()
    assert page.post(_url(world.couple_case), {"form": "goal", "words": "No token"}).status_code == 403
    assert _snapshot() == before


# History


def test_the_history_lists_who_changed_what_and_old_versions_are_readable(world, client_as, couple_plan):
    page = client_as("therapist_a")
    page.post(_url(world.couple_case), {"form": "framing", "revision": str(couple_plan["joint"].public_id), "framing": "About fairness"})
    response = page.get(_url(world.couple_case, "workspace:case_plan_versions"))
    assert response.status_code == 200
    html = " ".join(response.content.decode().split())
    assert [v.number for v in response.context["versions"]] == [4, 3, 2, 1]
    assert "Goal changed: therapist framing" in html
    assert "Pat Partner" in html
    assert "Quinn Partner" in html
    first = page.get(_url(world.couple_case, "workspace:case_plan_version", number=1))
    assert first.status_code == 200
    body = first.content.decode()
    assert "We want to argue less about money" in body
    assert "About fairness" not in body
    assert "I want to sleep better" not in body
    assert "See the current plan" in body
    assert page.get(_url(world.couple_case, "workspace:case_plan_version", number=99)).status_code == 404


def test_the_case_page_links_to_the_plan(world, client_as):
    html = client_as("therapist_a").get(_url(world.couple_case, "workspace:case_detail")).content.decode()
    assert _url(world.couple_case) in html


def test_a_step_on_a_partners_own_goal_is_hers_and_cannot_be_given_to_the_other(world, client_as, couple_plan):
    own = couple_plan["own"]
    page = client_as("therapist_a")
    form = page.get(_url(world.couple_case)).context["goals"][1].forms["step"]
    assert [label for _, label in form.fields["step_for"].choices] == ["Quinn Partner"]
    assert (
        page.post(_url(world.couple_case), {"form": "step", "revision": str(own.public_id), "text": "Lights out at eleven"}).status_code
        == 303
    )
    assert ActionStep.objects.get().client == world.partner_b
    before = _snapshot()
    data = {"form": "step", "revision": str(own.public_id), "text": "For Pat instead", "step_for": str(world.partner_a.public_id)}
    response = page.post(_url(world.couple_case), data)
    assert response.status_code == 400
    assert "For Pat instead" in response.content.decode()
    assert _snapshot() == before


def test_dates_on_the_plan_pages_are_in_the_therapists_time_zone(world, client_as, couple_plan):
    # 12:00 UTC on 3 March is already 4 March at UTC+14: every date on the three pages must say so.
    noon = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    therapist = world.therapist_a
    therapist.time_zone = "Pacific/Kiritimati"
    therapist.save()
    rating = goal_rate(actor=world.user("therapist_a"), item=couple_plan["joint"].item, level=1)
    GoalRating.objects.filter(pk=rating.pk).update(rated_at=noon)
    PlanVersion.objects.filter(plan__case=world.couple_case).update(created_at=noon)
    browser = client_as("therapist_a")
    newest = PlanVersion.objects.filter(plan__case=world.couple_case).order_by("-number").first()
    for url in (
        _url(world.couple_case),
        _url(world.couple_case, "workspace:case_plan_versions"),
        _url(world.couple_case, "workspace:case_plan_version", number=newest.number),
    ):
        html = browser.get(url).content.decode()
        assert "4 March 2026" in html, url
        assert "3 March 2026" not in html, url
