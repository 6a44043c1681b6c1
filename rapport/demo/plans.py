"""The demo practice's treatment plans, written together through the plan services.

Every goal, answer, rating and step below goes through ``rapport.plans.services``, as the portal
and the therapist's page would call them, so the audit trail and the plan's history are real. The
services stamp "now"; each row is then moved back to the moment in the past it belongs to (after
the session it was written in, or the evening the client answered in the portal), the way the
booking history marks past sessions as held. The audit trail keeps today's times: it is
hash-chained, and rewriting it would break the chain.

Every person and every word here is invented. No free text names anyone: a supervisor may read the
Moreaus' plan under a pseudonym.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from django.core.management.base import CommandError
from django.db.models import QuerySet

from rapport.accounts.models import User
from rapport.clients.models import Case, Client
from rapport.plans.models import ActionStep, Agreement, Choice, GoalRating, ItemRevision, PlanItem, PlanVersion, TreatmentPlan
from rapport.plans.services import (
    action_step_add,
    action_step_complete,
    goal_rate,
    plan_add_approach,
    plan_agree_item,
    plan_item_revise,
    plan_propose_goal,
)
from rapport.scheduling.models import Appointment, AppointmentStatus


def _levels(minus2: str, minus1: str, expected: str, plus1: str, plus2: str) -> dict[str, str]:
    return {"-2": minus2, "-1": minus1, "0": expected, "1": plus1, "2": plus2}


# --- Jordan (Dr. Varga's client): sleep, Mondays, evenings -------------------------------------------
#
# Two goals drafted in the first session from what he said, one he added that evening in the portal.
# He wanted to talk about the sleep goal's "five nights"; it was reworded to four at the next session.
JORDAN_SLEEP_WORDS = "To sleep through the night five nights out of seven, instead of lying awake replaying the day."
JORDAN_SLEEP_LEVELS = _levels(
    "Awake past 2 am most nights, going over the day.",
    "Three or four good nights a week.",
    "Sleeping through at least five nights a week.",
    "Six good nights a week.",
    "Sleeping through nearly every night, even in deadline weeks.",
)
JORDAN_SLEEP_REWORDED = "To sleep through the night four nights out of seven, instead of lying awake replaying the day."
JORDAN_SLEEP_REWORDED_LEVELS = _levels(
    "Awake past 2 am most nights, going over the day.",
    "Two or three good nights a week.",
    "Sleeping through at least four nights a week.",
    "Five or six good nights a week.",
    "Sleeping through nearly every night, even in deadline weeks.",
)
JORDAN_SLEEP_FRAMING = (
    "Sleep is where the stress of the new job shows first. We will work on the evenings before it "
    "(winding down, a set time for the last work email) rather than on sleep itself."
)
JORDAN_SLEEP_TALK = "Five feels like a lot right now. Could we start with four and see how it goes?"
JORDAN_EVENINGS_WORDS = "To come home and actually be with people, not snap at them because of the day I've had."
JORDAN_EVENINGS_LEVELS = _levels(
    "Snapping at someone most evenings.",
    "Two or three sharp evenings a week.",
    "At most one sharp evening a week, and I say sorry.",
    "I notice it coming and take ten minutes instead.",
    "Evenings feel like mine again.",
)
JORDAN_MONDAYS_WORDS = "To stop dreading Monday mornings. I'd like Sunday evening to feel like part of the weekend again."
JORDAN_MONDAYS_LEVELS = _levels(
    "Sunday is ruined from lunchtime on.",
    "The dread starts Sunday afternoon and is still there on Monday morning.",
    "Some nerves on Sunday night, gone once I'm at my desk.",
    "Sunday evening mostly free of work thoughts.",
    "Monday feels like any other day.",
)
JORDAN_APPROACH = (
    "Weekly sessions, fifty minutes, at the same time each week when we can. Practical and structured: "
    "we start with how the week went, focus on the evenings and sleep, and end with one small thing to try."
)
# Where each goal stood, as (Jordan's rating, the therapist's), at held sessions 2, 4, 6 and 8:
# slow movement, with the deadline week (the fifth session) holding the Monday goal back.
JORDAN_RATED_AT = (1, 3, 5, 7)
JORDAN_RATINGS: dict[str, list[tuple[int, int]]] = {
    "sleep": [(-1, -1), (-1, -1), (0, 0), (1, 0)],
    "mondays": [(-2, -1), (-1, -1), (-1, -1), (0, 0)],
    "evenings": [(-1, -1), (0, -1), (0, 0), (1, 1)],
}


class Step(NamedTuple):
    goal: str
    session: int  # the held session it was agreed in (index, oldest first)
    text: str
    due_after_days: int
    done_after_days: int | None  # None: still open
    reflection: str = ""


JORDAN_STEPS = [
    Step(
        "sleep",
        1,
        "Keep a sleep diary for a week: when work stops, when I go to bed, when I wake in the night.",
        6,
        5,
        "It showed me the bad nights come after late emails, not after bad days.",
    ),
    Step("sleep", 3, "No work email after 9 pm on four evenings this week.", 6, 6, "Managed three. The fourth was a deadline."),
    Step("mondays", 3, "On Friday before leaving, write down Monday's first three jobs.", 4, 3),
    Step(
        "evenings",
        5,
        "Walk once round the block between parking the car and opening the front door.",
        6,
        4,
        "Silly how much ten minutes helps.",
    ),
]
# Agreed at the last session: one he has let slip, and one for the week ahead.
JORDAN_OVERDUE_STEP = "Ask my manager whether the Monday meeting could move to 10 am."
JORDAN_NEXT_WEEK_STEP = "Screens off at 10:30 and the same bedtime on Sunday and Wednesday nights."


# --- The Moreaus (Dr. Varga's couple) -----------------------------------------------------------------
#
# The second partner proposed the evening goal in the portal; the first wanted to talk about what
# "fairly" would mean, and after the next session she reworded it so both could agree. Each also
# has a goal of their own, which the other does not see.
MOREAU_JOINT_WORDS = "Share the evening jobs fairly, so I'm not doing bedtime, dishes and lunches on my own."
MOREAU_JOINT_LEVELS = _levels(
    "One of us does almost all the evening jobs.",
    "Help comes when asked, but most of it still falls to one of us.",
    "The evening jobs are split roughly in half without having to ask.",
    "Split in half, and each of us gets a free evening.",
    "It just works, and there are evenings for the two of us.",
)
MOREAU_JOINT_TALK = "I want this too, but 'fairly' is exactly where we always get stuck. Can we say what it looks like?"
MOREAU_JOINT_REWORDED = (
    "Split the evening jobs so each of us has two free evenings a week. We write the week's jobs down together on Sunday."
)
MOREAU_JOINT_REWORDED_LEVELS = _levels(
    "One of us does almost all the evening jobs.",
    "The list gets written, but one of us still does most of it.",
    "Each of us has two free evenings most weeks.",
    "Two free evenings every week, without arguing over the list.",
    "It works without the list, and there is an evening for the two of us.",
)
MOREAU_APPROACH = (
    "Weekly sessions together, both of us there. In the room we slow arguments down to find what each "
    "of us needs underneath; at home, one small experiment a week."
)
MOREAU_FIRST_OWN = "To say what I need before I get resentful, instead of going quiet for days."
MOREAU_FIRST_OWN_LEVELS = _levels(
    "Silent for days after an argument.",
    "Silent for a day or two, then it comes out sideways.",
    "I say what's wrong within a day, calmly enough.",
    "I say it the same evening.",
    "I say it as it happens, and we sort it out together.",
)
MOREAU_SECOND_OWN = "To ask for help at the time, not after I've done everything and I'm exhausted."
MOREAU_SECOND_OWN_LEVELS = _levels(
    "I do it all, then explode.",
    "I ask, but only once I'm already fed up.",
    "I ask on the day, most days I need to.",
    "Asking on the spot feels normal.",
    "I hardly need to ask: we plan it together.",
)
# (first partner, second partner, therapist) at held sessions 3, 5 and 6. At the last session the
# second partner rates the joint goal lower again, as her after-session check-in says.
MOREAU_RATED_AT = (2, 4, 5)
MOREAU_JOINT_RATINGS = [(-1, -1, -1), (0, 0, 0), (1, -1, 0)]
MOREAU_OWN_RATINGS = {"first": [(-1, -1), (0, -1), (0, 0)], "second": [(-2, -1), (-1, -1), (-1, -1)]}  # (owner, therapist)


# --- Priya (Sam Whitlock's client) ---------------------------------------------------------------------
#
# Drafted at her last session; she has not answered yet (her portal account is not set up), so it
# waits in her "Things to do".
PRIYA_WORDS = "To get back to one thing I used to love each week, like the Sunday walk by the lake."
PRIYA_FRAMING = "Grief keeps its own pace. This is about small steps back into the routines that matter to you, not about moving on."
PRIYA_LEVELS = _levels(
    "No week has anything in it I used to enjoy.",
    "Now and then, when someone else plans it.",
    "One thing I used to enjoy, most weeks, that I chose.",
    "One thing every week, and I look forward to it.",
    "More than one most weeks.",
)


def _backdate(rows: QuerySet[Any], when: datetime, *, stamps: tuple[str, ...] = ()) -> None:
    """Move rows the services stamped "now" back to ``when``: one UPDATE, no model ``save``."""
    rows.update(created_at=when, updated_at=when, **dict.fromkeys(stamps, when))


def _written_at(revision: ItemRevision, when: datetime) -> None:
    """A new wording, its plan version and, for a new item, the item (and a new plan) at ``when``."""
    _backdate(ItemRevision.objects.filter(pk=revision.pk), when)
    _backdate(PlanVersion.objects.filter(pk=revision.version_id), when)
    if revision.number == 1:
        _backdate(PlanItem.objects.filter(pk=revision.item_id), when)
        if revision.version.number == 1:
            _backdate(TreatmentPlan.objects.filter(pk=revision.version.plan_id), when)


def _propose(when: datetime, **kwargs: Any) -> ItemRevision:
    revision = plan_propose_goal(**kwargs)
    _written_at(revision, when)
    return revision


def _approach(when: datetime, **kwargs: Any) -> ItemRevision:
    revision = plan_add_approach(**kwargs)
    _written_at(revision, when)
    return revision


def _revise(when: datetime, **kwargs: Any) -> ItemRevision:
    revision = plan_item_revise(**kwargs)
    _written_at(revision, when)
    return revision


def _answer(client: Client, revision: ItemRevision, choice: str, when: datetime, comment: str = "") -> None:
    agreement = plan_agree_item(actor=_user(client), revision=revision, choice=choice, comment=comment)
    _backdate(Agreement.objects.filter(pk=agreement.pk), when, stamps=("decided_at",))


def _rate(actor: User, item: PlanItem, level: int, session: Appointment, when: datetime) -> None:
    rating = goal_rate(actor=actor, item=item, level=level, appointment=session)
    _backdate(GoalRating.objects.filter(pk=rating.pk), when, stamps=("rated_at",))


def _step(actor: User, item: PlanItem, text: str, when: datetime, *, client: Client | None, due_on: date) -> ActionStep:
    step = action_step_add(actor=actor, item=item, text=text, client=client, due_on=due_on)
    _backdate(ActionStep.objects.filter(pk=step.pk), when)
    return step


def _complete(client: Client, step: ActionStep, when: datetime, reflection: str = "") -> None:
    action_step_complete(actor=_user(client), step=step, reflection=reflection)
    ActionStep.objects.filter(pk=step.pk).update(done_at=when, updated_at=when)


def _user(client: Client) -> User:
    if client.user is None:
        raise CommandError(f"The demo plan has {client.full_name} answer in the portal, but they have no account.")
    return client.user


def _held(case: Case, now: datetime) -> list[Appointment]:
    return list(Appointment.objects.filter(case=case, status=AppointmentStatus.COMPLETED, start__lt=now).order_by("start"))


def _members(case: Case) -> list[Client]:
    return [member.client for member in case.members.select_related("client__user").order_by("position")]


def _local_date(moment: datetime, case: Case) -> date:
    return moment.astimezone(ZoneInfo(case.practice.time_zone)).date()


def seed_plans(*, jordan: Case, moreaus: Case, priya: Case, now: datetime) -> None:
    """Plans for the three active cases, over the sessions their booking history already holds."""
    _seed_jordan(jordan, now)
    _seed_moreaus(moreaus, now)
    _seed_priya(priya, now)


def _need_sessions(case: Case, now: datetime, count: int, who: str) -> list[Appointment]:
    sessions = _held(case, now)
    if len(sessions) < count:
        raise CommandError(f"{who}'s plan history needs {count} held sessions; the booking history has {len(sessions)}.")
    return sessions


def _seed_jordan(case: Case, now: datetime) -> None:
    sessions = _need_sessions(case, now, max(JORDAN_RATED_AT) + 1, "Jordan")
    therapist = case.primary_therapist.user
    (client,) = _members(case)
    first, second = sessions[0], sessions[1]

    # The first session: the therapist writes down two goals as he put them, and how they will work.
    drafted = first.end + timedelta(minutes=40)
    sleep = _propose(
        drafted,
        actor=therapist,
        case=case,
        words=JORDAN_SLEEP_WORDS,
        framing=JORDAN_SLEEP_FRAMING,
        gas_levels=JORDAN_SLEEP_LEVELS,
        weight=2,
    )
    evenings = _propose(
        drafted + timedelta(minutes=3), actor=therapist, case=case, words=JORDAN_EVENINGS_WORDS, gas_levels=JORDAN_EVENINGS_LEVELS
    )
    approach = _approach(drafted + timedelta(minutes=6), actor=therapist, case=case, words=JORDAN_APPROACH)
    # That evening, in the portal: his own goal, then his answers.
    evening = first.end + timedelta(hours=5)
    mondays = _propose(evening, actor=_user(client), case=case, words=JORDAN_MONDAYS_WORDS, gas_levels=JORDAN_MONDAYS_LEVELS)
    _answer(client, mondays, Choice.AGREE, evening + timedelta(minutes=2))
    _answer(client, approach, Choice.AGREE, evening + timedelta(minutes=5))
    _answer(client, evenings, Choice.AGREE, evening + timedelta(minutes=6))
    _answer(client, sleep, Choice.TALK, evening + timedelta(minutes=8), comment=JORDAN_SLEEP_TALK)
    # The second session: they talked it over, and the therapist reworded her draft.
    sleep = _revise(
        second.start + timedelta(minutes=25),
        actor=therapist,
        revision=sleep,
        words=JORDAN_SLEEP_REWORDED,
        gas_levels=JORDAN_SLEEP_REWORDED_LEVELS,
    )
    _answer(client, sleep, Choice.AGREE, second.end + timedelta(hours=3))

    goals = {"sleep": sleep.item, "mondays": mondays.item, "evenings": evenings.item}
    steps = {session: [step for step in JORDAN_STEPS if step.session == session] for session in range(len(sessions))}
    for number, session in enumerate(sessions):
        if number in JORDAN_RATED_AT:
            at = JORDAN_RATED_AT.index(number)
            for key, item in goals.items():
                own, theirs = JORDAN_RATINGS[key][at]
                _rate(therapist, item, theirs, session, session.end + timedelta(minutes=15))
                _rate(_user(client), item, own, session, session.end + timedelta(hours=3, minutes=10))
        for planned in steps[number]:
            added = session.end + timedelta(minutes=20)
            step = _step(
                therapist,
                goals[planned.goal],
                planned.text,
                added,
                client=client,
                due_on=_local_date(session.start, case) + timedelta(days=planned.due_after_days),
            )
            if planned.done_after_days is not None:
                _complete(client, step, session.end + timedelta(days=planned.done_after_days, hours=2), planned.reflection)

    # The last session: two steps still open, one of them now past its date.
    last = sessions[-1]
    today = _local_date(now, case)
    _step(
        therapist, goals["mondays"], JORDAN_OVERDUE_STEP, last.end + timedelta(minutes=22), client=client, due_on=today - timedelta(days=2)
    )
    _step(
        therapist, goals["sleep"], JORDAN_NEXT_WEEK_STEP, last.end + timedelta(minutes=24), client=client, due_on=today + timedelta(days=7)
    )


def _seed_moreaus(case: Case, now: datetime) -> None:
    sessions = _need_sessions(case, now, max(MOREAU_RATED_AT) + 1, "The Moreaus")
    therapist = case.primary_therapist.user
    first_partner, second_partner = _members(case)
    first, second = sessions[0], sessions[1]

    approach = _approach(first.end + timedelta(minutes=30), actor=therapist, case=case, words=MOREAU_APPROACH)
    # The evening after the first session, the second partner puts the evenings on the plan in her words.
    proposed_at = first.end + timedelta(hours=6)
    joint = _propose(proposed_at, actor=_user(second_partner), case=case, words=MOREAU_JOINT_WORDS, gas_levels=MOREAU_JOINT_LEVELS)
    _answer(second_partner, joint, Choice.AGREE, proposed_at + timedelta(minutes=2))
    _answer(second_partner, approach, Choice.AGREE, proposed_at + timedelta(minutes=4))
    next_day = first.end + timedelta(days=1, hours=4)
    _answer(first_partner, approach, Choice.AGREE, next_day)
    _answer(first_partner, joint, Choice.TALK, next_day + timedelta(minutes=3), comment=MOREAU_JOINT_TALK)
    # After the second session, where they said what "fairly" looks like, she reworded it; both agreed.
    reworded_at = second.end + timedelta(hours=3)
    joint = _revise(
        reworded_at,
        actor=_user(second_partner),
        revision=joint,
        words=MOREAU_JOINT_REWORDED,
        gas_levels=MOREAU_JOINT_REWORDED_LEVELS,
    )
    _answer(second_partner, joint, Choice.AGREE, reworded_at + timedelta(minutes=1))
    _answer(first_partner, joint, Choice.AGREE, reworded_at + timedelta(hours=2))
    # Each partner's own goal, added in the portal the same evening: the other partner never sees it.
    own: dict[str, tuple[Client, PlanItem]] = {}
    for key, partner, words, levels, when in (
        ("second", second_partner, MOREAU_SECOND_OWN, MOREAU_SECOND_OWN_LEVELS, reworded_at + timedelta(minutes=10)),
        ("first", first_partner, MOREAU_FIRST_OWN, MOREAU_FIRST_OWN_LEVELS, reworded_at + timedelta(hours=2, minutes=5)),
    ):
        revision = _propose(when, actor=_user(partner), case=case, words=words, gas_levels=levels, owner=partner)
        _answer(partner, revision, Choice.AGREE, when + timedelta(minutes=1))
        own[key] = (partner, revision.item)

    # Steps: one for both after the second session, then one for each partner's own goal.
    sunday_list = _step(
        therapist,
        joint.item,
        "Sunday evening: write the week's jobs down together, ten minutes at the kitchen table.",
        second.end + timedelta(minutes=15),
        client=None,
        due_on=_local_date(second.start, case) + timedelta(days=6),
    )
    _complete(
        first_partner, sunday_list, second.end + timedelta(days=5), "We did it. Twenty minutes, not ten, but nobody raised their voice."
    )
    for number, session in enumerate(sessions):
        if number not in MOREAU_RATED_AT:
            continue
        at = MOREAU_RATED_AT.index(number)
        by_first, by_second, by_therapist = MOREAU_JOINT_RATINGS[at]
        _rate(therapist, joint.item, by_therapist, session, session.end + timedelta(minutes=15))
        _rate(_user(first_partner), joint.item, by_first, session, session.end + timedelta(hours=2, minutes=10))
        _rate(_user(second_partner), joint.item, by_second, session, session.end + timedelta(hours=6, minutes=10))
        for key, (partner, item) in own.items():
            by_owner, by_therapist = MOREAU_OWN_RATINGS[key][at]
            _rate(therapist, item, by_therapist, session, session.end + timedelta(minutes=17))
            _rate(_user(partner), item, by_owner, session, session.end + timedelta(hours=2 if key == "first" else 6, minutes=12))
    third = sessions[2]
    ask = _step(
        therapist,
        own["second"][1],
        "Once this week, ask for one thing on the spot, in one sentence.",
        third.end + timedelta(minutes=20),
        client=second_partner,
        due_on=_local_date(third.start, case) + timedelta(days=6),
    )
    _complete(
        second_partner, ask, third.end + timedelta(days=2, hours=5), "Asked for the bath run on Tuesday. It felt strange, and it worked."
    )
    last = sessions[-1]
    today = _local_date(now, case)
    _step(
        therapist,
        own["first"][1],
        "When I notice I'm going quiet, say 'I need ten minutes, then I'll come back', and come back.",
        last.end + timedelta(minutes=20),
        client=first_partner,
        due_on=today + timedelta(days=6),
    )
    _step(
        therapist,
        joint.item,
        "Book one evening out for the two of you this month.",
        last.end + timedelta(minutes=22),
        client=None,
        due_on=today + timedelta(days=20),
    )


def _seed_priya(case: Case, now: datetime) -> None:
    sessions = _need_sessions(case, now, 1, "Priya")
    last = sessions[-1]
    _propose(
        last.end + timedelta(minutes=35),
        actor=case.primary_therapist.user,
        case=case,
        words=PRIYA_WORDS,
        framing=PRIYA_FRAMING,
        gas_levels=PRIYA_LEVELS,
    )
