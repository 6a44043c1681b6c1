"""The demo practice's treatment plans: written together through the plan services, over the sessions held."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from rapport.accounts.models import User
from rapport.audit.models import AuditEvent
from rapport.clients.models import Case, Client
from rapport.plans.models import (
    ActionStep,
    Agreement,
    ChangeKind,
    GoalRating,
    ItemKind,
    ItemRevision,
    ItemScope,
    PlanItem,
    PlanVersion,
    RaterRole,
    TreatmentPlan,
)
from rapport.plans.selectors import AgreementStatus, items_awaiting_answer, plan_for_viewer, plan_versions
from rapport.plans.todo import plan_todos
from rapport.scheduling.models import AppointmentStatus


def _case_of(name: str) -> Case:
    return Case.objects.get(members__client__full_name=name, status="active")


def _held_starts(case: Case) -> list[datetime]:
    return list(case.appointments.filter(status=AppointmentStatus.COMPLETED).order_by("start").values_list("start", flat=True))


@pytest.mark.django_db
def test_demo_seed_writes_plans_together_over_the_sessions_held() -> None:
    started = timezone.now()
    call_command("demo_seed", stdout=StringIO())
    assert TreatmentPlan.objects.count() == 3

    # Jordan: three goals and one way of working, all agreed; one goal reworded after he wanted to talk.
    jordan = Client.objects.get(full_name="Jordan Pike")
    jordan_case = _case_of("Jordan Pike")
    elena = jordan_case.primary_therapist.user
    view = plan_for_viewer(jordan.user, jordan_case.public_id)
    assert len(view.goals) == 3
    assert len(view.approaches) == 1
    assert {goal.agreement.status for goal in view.goals + view.approaches} == {AgreementStatus.AGREED}
    assert {goal.revision.written_by for goal in view.goals} == {elena, jordan.user}
    assert any(goal.revision.therapist_framing for goal in view.goals)
    assert sum(1 for goal in view.goals if goal.revision.weight) == 1
    assert all(set(goal.revision.gas_levels) == {"-2", "-1", "0", "1", "2"} for goal in view.goals)
    (reworded,) = [goal for goal in view.goals if goal.revision.number == 2]
    first_wording = ItemRevision.objects.get(item=reworded.item, number=1)
    (talk,) = Agreement.objects.filter(revision=first_wording)
    assert talk.choice == "talk"
    assert talk.comment
    assert first_wording.client_words != reworded.revision.client_words
    assert PlanVersion.objects.filter(plan__case=jordan_case, change=ChangeKind.REVISED).count() == 1

    # Ratings by Jordan and by Elena every other session, each for a held session and dated by it.
    sessions = _held_starts(jordan_case)
    for goal in view.goals:
        by_role = {role: [r for r in goal.ratings if r.rater_role == role] for role in RaterRole.values}
        assert len(by_role["client"]) == len(by_role["therapist"]) >= 4
        for rating in goal.ratings:
            assert rating.appointment is not None
            assert rating.appointment.case_id == jordan_case.pk
            assert rating.appointment.status == AppointmentStatus.COMPLETED
            assert rating.appointment.start < rating.rated_at < rating.appointment.start + timedelta(days=1)
        assert by_role["client"][-1].level > by_role["client"][0].level  # gradual movement, upwards
    rated = GoalRating.objects.filter(item__plan__case=jordan_case)
    rated_sessions = {rating.appointment.start for rating in rated.select_related("appointment")}  # type: ignore[union-attr]
    assert 4 <= len(rated_sessions) < len(sessions)  # every few sessions, not every one
    earliest, latest = rated.order_by("rated_at").first(), rated.order_by("rated_at").last()
    assert latest.rated_at - earliest.rated_at >= timedelta(weeks=6)  # type: ignore[union-attr]

    # Steps: done ones with reflections, one open for next week, one overdue.
    steps = list(ActionStep.objects.filter(item__plan__case=jordan_case))
    today = timezone.localdate(started)
    done = [step for step in steps if step.done_at is not None]
    assert len(done) >= 3
    assert sum(1 for step in done if step.reflection) >= 2
    assert all(step.done_by == jordan.user and step.created_at < step.done_at for step in done)  # type: ignore[operator]
    still_open = [step for step in steps if step.done_at is None]
    assert any(today < step.due_on <= today + timedelta(days=10) for step in still_open if step.due_on)
    assert any(step.due_on < today for step in still_open if step.due_on)

    # The Moreaus: a joint goal in one partner's words; the other wanted to talk; both agreed the rewording.
    moreaus = _case_of("Alex Moreau")
    alex, casey = (member.client for member in moreaus.members.select_related("client__user").order_by("position"))
    therapist_view = plan_for_viewer(moreaus.primary_therapist.user, moreaus.public_id)
    (joint,) = [goal for goal in therapist_view.goals if goal.item.scope == ItemScope.JOINT]
    assert joint.revision.number == 2
    assert joint.revision.written_by == casey.user
    assert joint.agreement.status == AgreementStatus.AGREED
    first_answers = {a.client: a.choice for a in Agreement.objects.filter(revision__item=joint.item, revision__number=1)}
    assert first_answers == {casey: "agree", alex: "talk"}
    raters = {(r.rater_role, r.client) for r in joint.ratings}
    assert raters == {("client", alex), ("client", casey), ("therapist", None)}
    own = {goal.item.owner: goal for goal in therapist_view.goals if goal.item.scope == ItemScope.INDIVIDUAL}
    assert set(own) == {alex, casey}
    for partner, other in ((alex, casey), (casey, alex)):
        seen = plan_for_viewer(partner.user, moreaus.public_id)
        owners = {goal.item.owner for goal in seen.goals}
        assert owners == {None, partner}, "a partner sees the joint goal and their own, never the other's"
        assert other not in {r.client for goal in seen.goals for r in goal.ratings}
        assert own[other].item.pk not in {version.item_id for version in plan_versions(partner.user, moreaus.public_id)}
    moreau_steps = ActionStep.objects.filter(item__plan__case=moreaus)
    assert moreau_steps.filter(client__isnull=True).exists()
    assert moreau_steps.filter(client=alex).exists()
    assert moreau_steps.filter(client=casey, done_at__isnull=False).exclude(reflection="").exists()
    # A supervisor may read the couple's plan under a pseudonym: no one's name is in its text.
    names = {word for person in Client.objects.all() for word in person.full_name.split()}
    names |= {word for user in User.objects.all() for word in user.full_name.split() if word != "Dr."}
    texts = [
        r.client_words + r.therapist_framing + " ".join((r.gas_levels or {}).values())
        for r in ItemRevision.objects.filter(item__plan__case=moreaus)
    ]
    texts += [a.comment for a in Agreement.objects.filter(revision__item__plan__case=moreaus)]
    texts += [s.text + s.reflection for s in moreau_steps]
    assert not set(re.findall(r"\w+", " ".join(texts))) & names

    # Priya: one goal, drafted by Sam, waiting for her answer in her portal's "Things to do".
    priya = Client.objects.get(full_name="Priya Raman")
    priya_case = _case_of("Priya Raman")
    (priya_goal,) = priya_case.plan.items.all()
    assert priya_goal.kind == ItemKind.GOAL
    assert items_awaiting_answer(priya) == {priya_case.public_id: 1}
    assert [todo.label for todo in plan_todos(priya)] == ["Your plan: 1 item waiting for your answer"]

    # The history lies in the past, within each case's sessions; the audit trail is intact.
    for case in (jordan_case, moreaus, priya_case):
        first_session = _held_starts(case)[0]
        stamps = list(PlanVersion.objects.filter(plan__case=case).values_list("created_at", flat=True))
        stamps += list(Agreement.objects.filter(revision__item__plan__case=case).values_list("decided_at", flat=True))
        stamps += list(ActionStep.objects.filter(item__plan__case=case).values_list("created_at", flat=True))
        assert all(first_session < stamp < started for stamp in stamps)
        numbers_by_time = list(
            PlanVersion.objects.filter(plan__case=case).order_by("created_at", "number").values_list("number", flat=True)
        )
        assert numbers_by_time == sorted(numbers_by_time)
    # Written through the services: each item, answer, rating and step has its audit row.
    for model, object_type in (
        (PlanItem, "plans.item"),
        (Agreement, "plans.agreement"),
        (GoalRating, "plans.rating"),
        (ActionStep, "plans.step"),
    ):
        written = set(model.objects.values_list("public_id", flat=True))
        assert written <= set(AuditEvent.objects.filter(object_type=object_type).values_list("object_id", flat=True))
    call_command("audit_verify", stdout=StringIO())
