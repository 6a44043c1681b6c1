"""A fictional demo practice. Every person, address and note here is invented."""

from __future__ import annotations

import contextlib
from datetime import datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.clients.intake import intake_for_reader, intake_save
from rapport.clients.models import CaseStatus
from rapport.clients.onboarding import client_invite
from rapport.clients.services import case_open, case_update_summary, client_account_create, client_create
from rapport.consents.services import consent_defaults_create, consent_sign, consent_withdraw
from rapport.demo.plans import seed_plans
from rapport.demo.signals import seed_signals
from rapport.insights import triggers
from rapport.measures.alerts import alert_acknowledge
from rapport.measures.models import RiskAlert, Timing
from rapport.measures.services import BEFORE_OPENS, IssuedAdministration, administrations_for_appointment, answers_save, plan_set
from rapport.portal.services import export_build, export_request
from rapport.practice.models import Practice, Service, Therapist
from rapport.practice.services import practice_create, staff_invite, staff_user_create, supervision_create
from rapport.scheduling.availability import free_starts
from rapport.scheduling.booking import BookingRequest, public_booking_create
from rapport.scheduling.diary import time_block_add
from rapport.scheduling.models import (
    Appointment,
    AppointmentStatus,
    ConsultationException,
    Notice,
    NoticeState,
    WorkingHours,
)
from rapport.scheduling.services import appointment_book, appointment_cancel

DEMO_PASSWORD = "harbourlight-demo-2026"  # noqa: S105  (a published demo password for fictional accounts)
PRACTICE_SLUG = "harbourlight"

# Fixed base32 TOTP secrets so the demo works without a phone (see docs/install.md); fictional only.
STAFF = [
    ("admin@harbourlight.example", "Nadia Okonkwo", Role.PRACTICE_ADMIN, "HARBOURLIGHTADMINDEMOSECRETAAAAA"),
    ("elena@harbourlight.example", "Dr. Elena Varga", Role.THERAPIST, "HARBOURLIGHTELENADEMOSECRETAAAAA"),
    ("sam@harbourlight.example", "Sam Whitlock", Role.THERAPIST, "HARBOURLIGHTSAMWDEMOSECRETAAAAAA"),
    ("ruth@harbourlight.example", "Dr. Ruth Adeyemi", Role.SUPERVISOR, "HARBOURLIGHTRUTHDEMOSECRETAAAAAA"),
]

CLIENTS_WITH_ACCOUNTS = {"jordan.pike@mail.example", "alex.moreau@mail.example", "casey.moreau@mail.example"}


# --- The measurement history (all answers fictional) -------------------------------------------------
#
# Jordan's course, one row per held session, oldest first: PHQ-9 total, GAD-7 total, the
# after-session ratings (goals, tasks, bond) and what he wrote, if anything. Moderate at the start,
# a dip in a deadline week (the week before the session he missed), and by the end a fall larger
# than the reliable-change thresholds in the instruments' files (PHQ-9: 6 points, GAD-7: 4).
JORDAN_COURSE: list[tuple[int, int, tuple[int, int, int], str]] = [
    (14, 13, (7, 6, 8), "Fictional: good to have a plan for the evenings, though I'm not sure the worry list is for me."),
    (12, 12, (8, 7, 8), ""),
    (12, 10, (8, 8, 9), "Fictional: the sleep diary felt like homework at first; this week it showed me a pattern."),
    (10, 9, (8, 8, 9), ""),
    (13, 12, (7, 5, 8), "Fictional: a deadline week. Today felt rushed, and the breathing exercise doesn't fit my days."),
    (9, 8, (8, 8, 9), "Fictional: glad we went back to why the breathing exercise didn't work instead of dropping it."),
    (8, 8, (9, 8, 9), ""),
    (7, 6, (9, 9, 9), "Fictional: slept through four nights this week. Next: Monday mornings."),
]
# Today, before his next session: a low total, but item 9 answered "Several days". Any answer
# above "Not at all" reaches the therapist whatever the total (MEASURES.md §1.4).
JORDAN_TODAY_PHQ9 = 6
# The items that carry most of each total, first: sleep, energy and worry for Jordan, low mood for Priya.
JORDAN_PHQ9_ORDER = ("phq9_3", "phq9_4", "phq9_7", "phq9_2", "phq9_6", "phq9_1", "phq9_8", "phq9_5")
JORDAN_GAD7_ORDER = ("gad7_1", "gad7_4", "gad7_2", "gad7_6", "gad7_3", "gad7_5", "gad7_7")
PRIYA_PHQ9_ORDER = ("phq9_2", "phq9_1", "phq9_3", "phq9_4", "phq9_7", "phq9_5", "phq9_6", "phq9_8")
# Priya (Sam's client), per held session: PHQ-9 total, item 9, after-session ratings, note. She
# answered GAD-7 too at the first session only: Sam then took it out of her plan.
PRIYA_FIRST_GAD7 = 11
PRIYA_COURSE: list[tuple[int, int, tuple[int, int, int], str]] = [
    (17, 0, (7, 6, 9), "Fictional: it helped to talk first. I wasn't ready for exercises today."),
    (16, 1, (6, 6, 9), "Fictional: a hard week, with the anniversary. Glad I could say it out loud here."),
    (14, 0, (7, 7, 9), ""),
    (13, 0, (8, 7, 9), "Fictional: the walk after work is becoming a habit."),
    # Her scores have reliably improved since the first (17 to 11), and she wrote this: the words
    # and the scores each tell part of it.
    (
        11,
        0,
        (8, 8, 9),
        "Fictional: people keep telling me I seem brighter, and some days I am. But the evenings are still empty and lonely, and I miss him every day.",
    ),
]


class PartnerCheckIn(NamedTuple):
    week: int  # "How has the week been?", 0-10
    agenda: str
    ratings: tuple[int, int, int]  # goals, tasks, bond, 0-10
    note: str


# The Moreaus' last five sessions, oldest first, (first partner, second partner). Close together at
# first; in the last two, the second partner's ratings fall while the first's rise: the pattern a
# split-alliance signal looks for. No names in the free text: a supervisor may read it under a pseudonym.
MOREAU_COURSE: list[tuple[PartnerCheckIn, PartnerCheckIn]] = [
    (PartnerCheckIn(4, "", (6, 6, 7), ""), PartnerCheckIn(3, "Fictional: the argument about the school run.", (6, 5, 7), "")),
    (PartnerCheckIn(5, "", (7, 7, 8), ""), PartnerCheckIn(5, "", (7, 6, 7), "Fictional: I felt heard today.")),
    (PartnerCheckIn(6, "Fictional: how the new evening plan went.", (7, 7, 8), ""), PartnerCheckIn(6, "", (7, 7, 8), "")),
    (
        PartnerCheckIn(7, "", (8, 8, 9), "Fictional: useful to write the week's jobs down together."),
        PartnerCheckIn(5, "Fictional: the weekend with both families.", (5, 4, 6), ""),
    ),
    (
        PartnerCheckIn(7, "", (9, 8, 9), ""),
        PartnerCheckIn(4, "", (4, 4, 5), "Fictional: the plan for evenings felt settled for me rather than with me."),
    ),
]


def _spread(total: int, order: tuple[str, ...]) -> dict[str, int]:
    """Answers of 0-3 on the items in ``order`` that add up to ``total``, the first items the highest."""
    if not 0 <= total <= 3 * len(order):
        raise CommandError(f"A total of {total} cannot be spread over {len(order)} items answered 0 to 3.")
    answers = dict.fromkeys(order, 0)
    for n in range(total):
        answers[order[n % len(order)]] += 1
    return answers


def _difficulty(total: int) -> int:
    return 2 if total >= 15 else 1 if total >= 5 else 0


def _phq9(total: int, order: tuple[str, ...], *, item9: int = 0) -> dict[str, object]:
    return {**_spread(total - item9, order), "phq9_9": item9, "phq9_difficulty": _difficulty(total)}


def _gad7(total: int, order: tuple[str, ...]) -> dict[str, object]:
    return {**_spread(total, order), "gad7_difficulty": _difficulty(total)}


def _alliance(ratings: tuple[int, int, int], note: str) -> dict[str, object]:
    goals, tasks, bond = ratings
    return {"goals": goals, "tasks": tasks, "bond": bond, "note": note}


def _summary(text: str) -> str:
    return " ".join(text.split())


class Command(BaseCommand):
    help = "Create the fictional demo practice (refuses to run in production)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError(
                "demo_seed refuses to run with RAPPORT_ENV=production: it creates fictional people with a published password."
            )
        if Practice.objects.filter(slug=PRACTICE_SLUG).exists():
            self.stdout.write("The demo practice already exists; nothing to do.")
        else:
            # The seed runs the detectors itself once its history is written (rapport.demo.signals).
            with triggers.held():
                self._seed()
            self.stdout.write(self.style.SUCCESS("Demo practice created."))
        self._print_logins()

    @transaction.atomic
    def _seed(self) -> None:
        practice = practice_create(
            actor=None,
            name="Harbourlight Counselling",
            slug=PRACTICE_SLUG,
            time_zone="America/Toronto",
            tagline="Individual and couples therapy in Toronto and online.",
            about="A small practice where the relationship comes first: we agree on goals together and check, session by session, that therapy is working for you.",
            contact_email="hello@harbourlight.example",
            crisis_resources=[
                {"name": "9-8-8 Suicide Crisis Helpline", "contact": "call or text 988", "note": "24/7, anywhere in Canada"},
                {"name": "Emergency services", "contact": "911", "note": "if you or someone else is in immediate danger"},
            ],
        )
        users: dict[str, User] = {}
        for email, name, role, secret in STAFF:
            user = staff_user_create(actor=None, practice=practice, email=email, full_name=name, role=role, password=DEMO_PASSWORD)
            TOTP.activate(user, secret)
            RecoveryCodes.activate(user)
            users[email] = user
        elena = Therapist.objects.get(user=users["elena@harbourlight.example"])
        sam = Therapist.objects.get(user=users["sam@harbourlight.example"])
        elena.credentials, elena.bio = (
            "PhD, Registered Psychologist",
            "Works with anxiety, low mood and couples in transition, using emotionally focused and cognitive approaches.",
        )
        sam.credentials, sam.bio = (
            "MSW, Registered Social Worker",
            "Works with grief, life changes and couples who want to communicate better.",
        )
        elena.save(update_fields=["credentials", "bio"])
        sam.save(update_fields=["credentials", "bio"])
        supervision_create(actor=None, supervisor=users["ruth@harbourlight.example"], therapist=sam)
        supervision_create(actor=None, supervisor=users["ruth@harbourlight.example"], therapist=elena)
        # A therapist who has been invited but has not joined yet: the admin's Staff page shows it.
        staff_invite(
            actor=users["admin@harbourlight.example"], email="omar@harbourlight.example", full_name="Omar Reyes", role=Role.THERAPIST
        )

        def client(name: str, email: str) -> Any:
            created = client_create(actor=None, practice=practice, full_name=name, email=email)
            if email in CLIENTS_WITH_ACCOUNTS:
                client_account_create(actor=None, client=created, password=DEMO_PASSWORD)
            return created

        jordan = client("Jordan Pike", "jordan.pike@mail.example")
        priya = client("Priya Raman", "priya.raman@mail.example")
        alex = client("Alex Moreau", "alex.moreau@mail.example")
        casey = client("Casey Moreau", "casey.moreau@mail.example")
        tom = client("Tom Becker", "tom.becker@mail.example")
        lina = client("Lina Haddad", "lina.haddad@mail.example")

        elena_user = users["elena@harbourlight.example"]
        sam_user = users["sam@harbourlight.example"]
        cases = [
            (
                elena,
                elena_user,
                [jordan],
                CaseStatus.ACTIVE,
                "Referred by family doctor after a stressful job change. Wants to sleep better and feel less on edge at work. Prefers practical, structured sessions.",
            ),
            (
                sam,
                sam_user,
                [priya],
                CaseStatus.ACTIVE,
                "Grief after her father's death last spring; finding it hard to return to routines. Values space to talk before any exercises.",
            ),
            (
                elena,
                elena_user,
                [alex, casey],
                CaseStatus.ACTIVE,
                "Together nine years; arguments about household load have become more frequent since their second child. Both want to feel like a team again.",
            ),
            (
                sam,
                sam_user,
                [tom, lina],
                CaseStatus.CONSULTATION,
                "Consultation held; deciding whether to begin couples work. Main theme: trust after a long-distance year.",
            ),
        ]
        opened = []
        for therapist, therapist_user, members, status, summary in cases:
            case = case_open(actor=therapist_user, therapist=therapist, clients=members, status=status)
            case_update_summary(actor=therapist_user, case=case, summary=_summary(summary))
            opened.append((therapist, therapist_user, case))
        self._seed_consents(practice, [jordan, alex, casey], casey)
        self._seed_onboarding(opened, jordan, alex, casey, priya)
        self._seed_schedule(elena, sam, opened, soon=opened[0][2])
        self._seed_booking_history(practice, elena, sam, opened, users["admin@harbourlight.example"], longest=opened[0][2])
        self._seed_measures(opened, jordan=opened[0][2], priya=opened[1][2], moreaus=opened[2][2])
        seed_plans(jordan=opened[0][2], priya=opened[1][2], moreaus=opened[2][2], now=timezone.now())
        # After all the history above: one more course, and the detectors' first run over every case.
        seed_signals(practice=practice, sam=sam, now=timezone.now())
        # Last, so the export holds the history above: Jordan asked for a copy of his data.
        assert jordan.user is not None
        export_build(export_pk=export_request(actor=jordan.user).pk)

    def _seed_consents(self, practice: Practice, signers: list[Any], withdraws_reminders: Any) -> None:
        """The default form, signed by the clients who have portal accounts; one later changes their mind.

        Each signs for themselves, as they would in the portal, so the history shows who decided.
        """
        version = consent_defaults_create(actor=None, practice=practice)
        choices = {item.key: True for item in version.items.all()}
        for signer in signers:
            consent_sign(actor=signer.user, client=signer, version=version, typed_name=signer.full_name, choices=choices)
        consent_withdraw(actor=withdraws_reminders.user, client=withdraws_reminders, item_key="email_reminders")
        # Jordan later decided against supervision: Ruth's supervision page no longer lists his case.
        jordan = signers[0]
        consent_withdraw(actor=jordan.user, client=jordan, item_key="supervision")

    def _seed_onboarding(self, opened: list[tuple[Therapist, User, Any]], jordan: Any, alex: Any, casey: Any, priya: Any) -> None:
        """The portal's first steps: intake answers from the clients with accounts, and an open invitation.

        Each client writes their own answers, in their own words; the therapists read them (an
        audited read, so each client's "Who opened my record" shows it).
        """
        answers = {
            jordan: {
                "phone": "+1 555 0131",
                "emergency_name": "Dana Pike",
                "emergency_phone": "+1 555 0132",
                "emergency_relationship": "sister",
                "what_brings_you": "Fictional: since the new job I lie awake going over the day, and I snap at people I like.",
                "what_you_hope_for": "Fictional: to sleep through most nights and to stop dreading Monday mornings.",
            },
            alex: {
                "phone": "+1 555 0141",
                "what_brings_you": "Fictional: we argue about who does what at home, and then we stop talking for days.",
                "what_you_hope_for": "Fictional: to feel like we are on the same side again.",
            },
            casey: {
                "phone": "+1 555 0142",
                "emergency_name": "Robin Moreau",
                "emergency_phone": "+1 555 0143",
                "emergency_relationship": "brother",
                "what_brings_you": "Fictional: I feel I carry the household alone since our second child was born.",
                "what_you_hope_for": "Fictional: fairer evenings, and more time for the two of us.",
            },
        }
        for client, given in answers.items():
            intake_save(actor=client.user, client=client, **given)
        for _therapist, therapist_user, case in opened:
            members = [member.client for member in case.members.select_related("client")]
            for client in members:
                if client in answers:
                    intake_for_reader(therapist_user, case.public_id, client.public_id)
            if priya in members:
                # Priya has been invited and has not set up her account yet: Sam's case page shows the open link.
                client_invite(actor=therapist_user, case=case, client=priya)

    def _seed_schedule(self, elena: Therapist, sam: Therapist, opened: list[tuple[Therapist, User, Any]], *, soon: Any) -> None:
        """Hours for both therapists, and the next sessions of the active cases.

        ``soon``'s next session falls within the next three days, so its before-session check-ins
        are open while a newcomer looks around (they open three days ahead).
        """
        consultation = Service.objects.get(practice=elena.practice, kind="consultation")
        for weekday in range(5):
            WorkingHours.objects.create(therapist=elena, weekday=weekday, start=time(9), end=time(12))
            WorkingHours.objects.create(therapist=elena, weekday=weekday, start=time(13), end=time(17))
            if weekday in (1, 3):
                WorkingHours.objects.create(therapist=sam, weekday=weekday, start=time(12), end=time(20))
        fridays = WorkingHours.objects.create(therapist=sam, weekday=4, start=time(9), end=time(12))
        fridays.services.add(consultation)  # Sam offers consultations only on Friday mornings
        now = timezone.now()
        for therapist, therapist_user, case in opened:
            if case.status != "active":
                continue
            service = Service.objects.get(practice=therapist.practice, kind=case.kind)
            window_start = now + timedelta(days=1)
            starts = free_starts(
                therapist=therapist, service=service, window_start=window_start, window_end=window_start + timedelta(days=14), now=now
            )
            # One session a week, at the first free time of each week.
            booked_weeks: set[int] = set()
            if case == soon:
                start = self._start_within_check_in_window(therapist, service, now)
                # Booked at the end of last week's session, as therapists do: the notice period for
                # online booking did not apply then.
                appointment_book(
                    actor=therapist_user, therapist=therapist, service=service, start=start, case=case, now=now - timedelta(days=7)
                )
                booked_weeks.add(start.isocalendar()[1])
            for start in starts:
                week = start.isocalendar()[1]
                if week not in booked_weeks and start.minute == 0:
                    appointment_book(actor=therapist_user, therapist=therapist, service=service, start=start, case=case, now=now)
                    booked_weeks.add(week)

    @staticmethod
    def _start_within_check_in_window(therapist: Therapist, service: Service, now: datetime) -> datetime:
        """A free start in the next three days: a day or more ahead when the hours allow, else the latest one.

        Two hours ahead at the soonest, and an hour short of three days at the latest, so the
        before-session check-ins are open now and stay open for a while.
        """
        starts = [
            start
            for start in free_starts(
                therapist=therapist,
                service=service,
                window_start=now + timedelta(hours=2),
                window_end=now + BEFORE_OPENS - timedelta(hours=1),
                now=now - timedelta(days=7),
            )
            if start.minute == 0
        ]
        if not starts:
            raise CommandError(f"{therapist.display_name} has no free time in the next three days for {service.name}.")
        later = [start for start in starts if start >= now + timedelta(days=1)]
        return later[0] if later else starts[-1]

    def _seed_booking_history(
        self, practice: Practice, elena: Therapist, sam: Therapist, opened: list[Any], admin: User, *, longest: Any
    ) -> None:
        """Past sessions and consultations, booked as if from the site, and what the public site has booked lately.

        Each past appointment is booked through the real services with the clock set to a week
        before it, then marked as held; the emails those bookings queued are recorded as sent.
        ``longest`` began three weeks before the other cases, so its check-ins show a longer course.
        """
        now = timezone.now()
        consultation = Service.objects.get(practice=practice, kind="consultation")

        def first_free(therapist: Therapist, service: Service, after: Any, *, hour: int | None = None) -> Any:
            booked_at = after - timedelta(days=7)
            for start in free_starts(
                therapist=therapist, service=service, window_start=after, window_end=after + timedelta(days=14), now=booked_at
            ):
                if start.minute == 0 and (hour is None or start.astimezone(ZoneInfo(therapist.time_zone)).hour == hour):
                    return start, booked_at
            raise CommandError(f"No free time for {service.name} with {therapist.display_name} after {after:%Y-%m-%d}.")

        # Six weeks of held sessions for the active cases, nine for ``longest`` (one missed, one cancelled late).
        for therapist, therapist_user, case in opened:
            service = Service.objects.get(practice=practice, kind=case.kind)
            if case.status != "active":
                continue
            for weeks_ago in range(9 if case == longest else 6, 0, -1):
                start, booked_at = first_free(therapist, service, now - timedelta(weeks=weeks_ago))
                appointment = appointment_book(
                    actor=therapist_user, therapist=therapist, service=service, start=start, case=case, now=booked_at
                )
                if weeks_ago == 3 and case.kind == "individual" and therapist == sam:
                    appointment_cancel(
                        actor=None,
                        appointment=appointment,
                        by_client=True,
                        message="Fictional: a work trip came up.",
                        now=start - timedelta(hours=5),
                    )
                else:
                    Appointment.objects.filter(pk=appointment.pk).update(
                        status=AppointmentStatus.NO_SHOW
                        if weeks_ago == 4 and therapist == elena and case.kind == "individual"
                        else AppointmentStatus.COMPLETED
                    )

        # Consultations from the site: two held (one became the Beckers' case), one upcoming.
        held = [
            (
                sam,
                "Tom Becker",
                "tom.becker@mail.example",
                "Fictional: we want to decide together whether couples therapy is right for us.",
            ),
            (elena, "Marcus Lee", "marcus.lee@mail.example", "Fictional: feeling stuck since a move; not sure therapy is for me."),
        ]
        for weeks_ago, (therapist, name, email, reason) in enumerate(held, start=2):
            start, booked_at = first_free(therapist, consultation, now - timedelta(weeks=weeks_ago))
            appointment = appointment_book(
                actor=None,
                therapist=therapist,
                service=consultation,
                start=start,
                contact_name=name,
                contact_email=email,
                reason=reason,
                time_zone="America/Toronto",
                privacy_accepted=True,
                now=booked_at,
            )
            Appointment.objects.filter(pk=appointment.pk).update(
                status=AppointmentStatus.COMPLETED, contact_verified_at=booked_at + timedelta(minutes=4)
            )
        # Marcus asked by phone for a second consultation after a long gap: the practice allowed it.
        ConsultationException.objects.create(
            practice=practice, email="marcus.lee@mail.example", note="Fictional: asked by phone after two years.", granted_by=admin
        )
        start, _ = first_free(sam, consultation, now + timedelta(days=2), hour=10)
        public_booking_create(
            practice=practice,
            request=BookingRequest(
                service=consultation,
                therapist=None,
                start=start,
                time_zone="America/Vancouver",
                name="Noor Aziz",
                email="noor.aziz@mail.example",
                phone="+1 555 0100",
                privacy_accepted=True,
                reason="Fictional: anxious before exams, would like to talk to someone.",
            ),
            now=now - timedelta(hours=3),
        )
        # Elena keeps Thursday afternoons' last hour for her peer consultation group.
        for week in range(0, 4):
            day = (now + timedelta(days=(3 - now.weekday()) % 7 + 7 * week)).astimezone(ZoneInfo(elena.time_zone)).date()
            block_start = datetime.combine(day, time(16), tzinfo=ZoneInfo(elena.time_zone))
            # When a session is already booked then, the block service refuses to cover it.
            with contextlib.suppress(ValidationError):
                time_block_add(
                    actor=elena.user,
                    therapist=elena,
                    start=block_start,
                    end=block_start + timedelta(hours=1),
                    label="Peer consultation group",
                    now=now,
                )
        # The emails of the past are history: recorded as sent, so the demo's mail log starts today.
        Notice.objects.filter(state=NoticeState.PENDING, due_at__lte=now).update(
            state=NoticeState.SENT, sent_at=F("due_at"), claimed_at=F("due_at")
        )

    def _seed_measures(self, opened: list[tuple[Therapist, User, Any]], *, jordan: Any, priya: Any, moreaus: Any) -> None:
        """Check-in history, through the real services only: nothing here writes a score.

        Each session's check-ins are created as the invitation job will create them, when they open
        (three days before), and each client answers through their own one-time link at the time
        they would have: the evening before a session, and a few hours after it. ``answers_save``
        scores them and raises the risk alerts. Missed and cancelled sessions have no check-ins.
        """
        now = timezone.now()
        therapist_of = {case.pk: therapist_user for _therapist, therapist_user, case in opened}

        def held(case: Any) -> list[Appointment]:
            return list(Appointment.objects.filter(case=case, status=AppointmentStatus.COMPLETED, start__lt=now).order_by("start"))

        def next_session(case: Any) -> Appointment:
            upcoming = Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED, start__gt=now).order_by("start").first()
            if upcoming is None:
                raise CommandError("The demo's active cases need an upcoming session for their open check-ins.")
            return upcoming

        def issue(appointment: Appointment, *, at: datetime) -> dict[tuple[int, str], IssuedAdministration]:
            created = administrations_for_appointment(appointment, now=at)
            return {(item.administration.client_id, item.administration.instrument_key): item for item in created}

        def send(issued: dict[tuple[int, str], IssuedAdministration], client: Any, key: str, answers: Any, *, at: datetime) -> Any:
            item = issued[(client.pk, key)]
            return answers_save(administration=item.administration, answers=answers, final=True, token=item.token, now=at)

        def members(case: Any) -> list[Any]:
            return [member.client for member in case.members.select_related("client").order_by("position")]

        # Jordan: PHQ-9 and GAD-7 before each session, the after-session check-in after it.
        (client,) = members(jordan)
        sessions = held(jordan)
        if len(sessions) != len(JORDAN_COURSE):
            raise CommandError(f"Jordan's history has {len(sessions)} held sessions; the check-in course expects {len(JORDAN_COURSE)}.")
        for appointment, (phq9, gad7, ratings, note) in zip(sessions, JORDAN_COURSE, strict=True):
            issued = issue(appointment, at=appointment.start - BEFORE_OPENS)
            evening_before = appointment.start - timedelta(hours=18)
            send(issued, client, "phq9", _phq9(phq9, JORDAN_PHQ9_ORDER), at=evening_before)
            send(issued, client, "gad7", _gad7(gad7, JORDAN_GAD7_ORDER), at=evening_before + timedelta(minutes=4))
            send(issued, client, "alliance", _alliance(ratings, note), at=appointment.end + timedelta(hours=3))
        # His next session's check-ins are open now. He sent the PHQ-9 a few minutes ago, with a
        # risk answer: the open alert on Elena's home. It escalates only after the practice's
        # risk_escalation_minutes (60 unless changed), counted from now. The GAD-7 waits for him.
        upcoming = next_session(jordan)
        issued = issue(upcoming, at=now - timedelta(hours=1))
        send(issued, client, "phq9", _phq9(JORDAN_TODAY_PHQ9, JORDAN_PHQ9_ORDER, item9=1), at=now - timedelta(minutes=5))

        # Priya: the default plan for her first session; then Sam kept only PHQ-9 and the after-session check-in.
        (client,) = members(priya)
        sessions = held(priya)
        if len(sessions) != len(PRIYA_COURSE):
            raise CommandError(f"Priya's history has {len(sessions)} held sessions; the check-in course expects {len(PRIYA_COURSE)}.")
        for number, (appointment, (phq9, item9, ratings, note)) in enumerate(zip(sessions, PRIYA_COURSE, strict=True)):
            issued = issue(appointment, at=appointment.start - BEFORE_OPENS)
            morning_of = appointment.start - timedelta(hours=5)
            result = send(issued, client, "phq9", _phq9(phq9, PRIYA_PHQ9_ORDER, item9=item9), at=morning_of)
            if number == 0:
                send(issued, client, "gad7", _gad7(PRIYA_FIRST_GAD7, JORDAN_GAD7_ORDER), at=morning_of + timedelta(minutes=3))
                plan_set(actor=therapist_of[priya.pk], case=priya, entries=[("phq9", Timing.BEFORE), ("alliance", Timing.AFTER)])
            if result.alert is not None:
                # Sam saw it that morning and acknowledged it within the half hour. Its email went
                # out then: recorded as sent, like the past's other emails, so the job consumer does
                # not send it today, weeks late.
                alert_acknowledge(actor=therapist_of[priya.pk], alert=result.alert, now=morning_of + timedelta(minutes=25))
                RiskAlert.objects.filter(pk=result.alert.pk, notified_at__isnull=True).update(notified_at=morning_of)
            send(issued, client, "alliance", _alliance(ratings, note), at=appointment.end + timedelta(hours=2))

        # The Moreaus: each partner answers their own check-ins, before and after the last five sessions.
        partners = members(moreaus)
        sessions = held(moreaus)[-len(MOREAU_COURSE) :]
        if len(sessions) != len(MOREAU_COURSE):
            raise CommandError(f"The Moreaus' history has {len(sessions)} held sessions; the check-ins expect {len(MOREAU_COURSE)}.")
        for appointment, answers in zip(sessions, MOREAU_COURSE, strict=True):
            issued = issue(appointment, at=appointment.start - BEFORE_OPENS)
            for offset, (partner, given) in enumerate(zip(partners, answers, strict=True)):
                before_at = appointment.start - timedelta(hours=20 - 3 * offset)
                send(issued, partner, "presession", {"week": given.week, "agenda": given.agenda}, at=before_at)
                send(
                    issued, partner, "alliance", _alliance(given.ratings, given.note), at=appointment.end + timedelta(hours=2 + 4 * offset)
                )
        # Their next session's check-ins are waiting for each of them.
        issue(next_session(moreaus), at=now - timedelta(hours=1))

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write("Demo logins (all fictional), password for every account: " + DEMO_PASSWORD)
        for email, name, role, _secret in STAFF:
            self.stdout.write(f"  {role:<15} {email:<32} {name}")
        self.stdout.write("  Staff sign in with a second factor. Without a phone, print the current code with:")
        self.stdout.write("      make demo-code EMAIL=elena@harbourlight.example")
        self.stdout.write("  or add the secret to any authenticator app:")
        for email, _name, _role, secret in STAFF:
            codes = ""
            user = User.objects.filter(email=email).first()
            recovery = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
            if recovery is not None:
                codes = ", recovery codes: " + " ".join(RecoveryCodes(recovery).get_unused_codes()[:3]) + " ..."
            self.stdout.write(f"      {email}: {secret}{codes}")
        for email in sorted(CLIENTS_WITH_ACCOUNTS):
            self.stdout.write(f"  {'client':<15} {email}")
