"""The pre-session briefing's render time beside a bare Django render of the same HTML (Issue 7: at most 2x).

The case: a couple with 12 weekly sessions behind them, each partner sending a PHQ-9 before and an
alliance check-in after each one (a bond dip in week 10 and a gap between the partners, so there
are open signals), a plan with two goals waiting for answers and two action steps, and a
pre-session note for the session being briefed. All of it fictional.

Timed, through Django's test client and the whole middleware stack, signed in as the therapist:

- **briefing**: GET of the briefing page, opened again with nothing in the case changed since the
  last opening (the therapist comes back to it: after acknowledging a signal, before the session):
  the role check, the version query over every row the page and its access checks read, the
  audit events and the page around the body written out for this version of the data.
- **after a change**: GET of the briefing right after a write to the case (the case row is saved,
  so the version differs): everything gathered and written out again, every query, the
  decryption. The charts' input has not changed, so they come from their cache; the very first,
  cold request, drawing them, is reported on its own.
- **bare**: GET of a view that renders the briefing's captured HTML as a template string with no
  tags in it, through the same stack: what Django costs to send those bytes at all.

Interleaved, 3 warm-up requests each, then 60 (10) timed triples; medians and the ratios. The
target is judged on the first (the page as a therapist reopens it); the second is reported beside
it. Correctness (a failure marks the run failed): every briefing answers 200 with the pre-session
note on it, and the bare page answers the same number of bytes as the captured HTML.
"""

from __future__ import annotations

import base64
import secrets
import time
from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path

from benchmarks.timing import Result, Target, median, quantile

SIZE = {False: 60, True: 10}
WARMUP = 3
SESSIONS = 12
AGENDA = "Fictional: we want to talk about the holidays and who hosts whom."

# The captured HTML, compiled once: the bare view renders it as a template string on every request.
_BARE: dict[str, Any] = {}


def _bare_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_BARE["template"].render({}, request))


# Used as ROOT_URLCONF while this benchmark runs: Rapport's own URLs plus the bare page.
urlpatterns = [path("bench-bare/", _bare_view), path("", include("config.urls"))]


def _sent(client: Any, case: Any, key: str, answers: dict[str, Any], at: Any, timing: str, appointment: Any = None) -> None:
    from rapport.measures import instruments
    from rapport.measures.models import Administration
    from rapport.measures.services import answers_save
    from rapport.practice.services import hash_token

    administration = Administration.objects.create(
        practice=case.practice,
        case=case,
        client=client,
        appointment=appointment,
        instrument_key=key,
        instrument_version=instruments.load(key).version,
        timing=timing,
        opens_at=at - timedelta(hours=1),
        due_at=at + timedelta(hours=1),
        expires_at=at + timedelta(days=1),
        token_hash=hash_token(secrets.token_urlsafe(16)),
    )
    answers_save(administration=administration, answers=answers, final=True, actor=client.user, now=at)


def _phq9(total: int) -> dict[str, int]:
    values, left = [], total
    for _ in range(8):
        values.append(min(3, left))
        left -= values[-1]
    return {**{f"phq9_{n}": v for n, v in enumerate(values, start=1)}, "phq9_9": 0}


def _couple_history(world: Any) -> Any:
    """The couple's case and its history; returns the session to brief (tomorrow)."""
    from django.utils import timezone

    from rapport.clients.models import CaseStatus
    from rapport.clients.services import case_open, client_account_create, client_create
    from rapport.insights.services import signals_detect
    from rapport.measures.models import Timing
    from rapport.plans.services import action_step_add, plan_propose_goal
    from rapport.practice.models import Service, ServiceKind
    from rapport.scheduling.models import Appointment, AppointmentStatus

    practice, therapist = world.practice, world.therapist
    first = client_create(actor=None, practice=practice, full_name="Bench Partner One", email="one@bench.example")
    second = client_create(actor=None, practice=practice, full_name="Bench Partner Two", email="two@bench.example")
    for person in (first, second):
        client_account_create(actor=None, client=person, password=None)
    case = case_open(actor=world.user, therapist=therapist, clients=[first, second], status=CaseStatus.ACTIVE)
    service = (
        Service.objects.filter(practice=practice, kind=ServiceKind.COUPLE).first() or Service.objects.filter(practice=practice).first()
    )
    assert service is not None, "the bench practice offers no service"

    def appointment(start: Any, status: str) -> Any:
        end = start + timedelta(minutes=service.duration_minutes)
        return Appointment.objects.create(
            practice=practice,
            therapist=therapist,
            service=service,
            case=case,
            start=start,
            end=end,
            blocked_start=start,
            blocked_end=end,
            status=status,
        )

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for week in range(SESSIONS, 0, -1):
        start = now - timedelta(days=7 * week)
        session = appointment(start, AppointmentStatus.COMPLETED)
        for index, person in enumerate((first, second)):
            _sent(person, case, "phq9", _phq9(max(4, 19 - week // 2 - index)), start - timedelta(hours=2), Timing.BEFORE, session)
            bond = 3 if week == 3 else 8 - 3 * index
            _sent(person, case, "alliance", {"goals": 7, "tasks": 7, "bond": bond}, start + timedelta(hours=1), Timing.AFTER, session)
    upcoming = appointment(now + timedelta(days=1), AppointmentStatus.BOOKED)
    _sent(second, case, "presession", {"week": 5, "agenda": AGENDA}, now, Timing.BEFORE, upcoming)
    signals_detect(case, now=timezone.now())
    goal = plan_propose_goal(actor=world.user, case=case, words="Fictional: fewer arguments about money.")
    plan_propose_goal(actor=world.user, case=case, words="Fictional: one evening a week for the two of us.")
    action_step_add(actor=world.user, item=goal.item, text="Fictional: each writes down one expense a day.")
    action_step_add(actor=world.user, item=goal.item, text="Fictional: a ten-minute talk on Sundays.")
    return upcoming


def _ms(browser: Any, url: str) -> tuple[float, Any]:
    start = time.perf_counter()
    response = browser.get(url)
    return (time.perf_counter() - start) * 1000, response


def briefing_render(world: Any, *, quick: bool) -> Result:
    """Median milliseconds of a GET of the briefing (charts cached) against a bare render of the same HTML."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import reverse

    from rapport.insights.models import Signal

    count = SIZE[quick]
    upcoming = _couple_history(world)
    case = upcoming.case
    if not Authenticator.objects.filter(user=world.user).exists():
        # Staff must have a second factor to use the workspace; nobody ever types this one.
        TOTP.activate(world.user, base64.b32encode(secrets.token_bytes(20)).decode())
    browser = Client()
    browser.force_login(world.user, backend="django.contrib.auth.backends.ModelBackend")
    url = reverse("workspace:appointment_briefing", kwargs={"appointment_id": upcoming.public_id})
    wrong = 0
    with override_settings(ROOT_URLCONF=__name__):
        browser.get("/workspace/")  # the session's first request writes the session itself
        cold_ms, first = _ms(browser, url)
        html = first.content.decode()
        wrong += first.status_code != 200 or AGENDA not in html
        _BARE["template"] = engines["django"].from_string(html)
        for _ in range(WARMUP):
            browser.get(url)
            browser.get("/bench-bare/")
        briefing_ms, changed_ms, bare_ms = [], [], []
        for _ in range(count):
            took, response = _ms(browser, url)
            briefing_ms.append(took)
            wrong += response.status_code != 200 or AGENDA not in response.content.decode()
            case.save()
            took, response = _ms(browser, url)
            changed_ms.append(took)
            wrong += response.status_code != 200 or AGENDA not in response.content.decode()
            took, response = _ms(browser, "/bench-bare/")
            bare_ms.append(took)
            wrong += response.status_code != 200 or len(response.content) != len(first.content)
    signals = Signal.objects.filter(case=case).count()
    page, changed, bare = median(briefing_ms), median(changed_ms), median(bare_ms)
    ratio = page / bare
    return Result(
        name="briefing_render",
        size=count,
        median=f"{page:.1f} ms per briefing",
        baseline=f"{bare:.1f} ms bare render of its HTML",
        ratio=f"{ratio:.1f}x",
        runs=f"{count} interleaved triples after {WARMUP} warm-ups",
        details=[
            f"briefing, reopened with the case unchanged: median {page:.1f} ms, p90 {quantile(briefing_ms, 0.9):.1f} ms ({ratio:.1f}x bare)",
            f"briefing, first opening after a change to the case: median {changed:.1f} ms, p90 {quantile(changed_ms, 0.9):.1f} ms "
            f"({changed / bare:.1f}x bare); the first (cold) request, drawing its {html.count('data:image/svg+xml')} charts: {cold_ms:.0f} ms",
            f"the case: 2 partners, {SESSIONS} sessions, {4 * SESSIONS} check-ins, {signals} signals, {len(first.content) // 1024} kB of HTML",
            f"every briefing 200 with its note and every bare page the same size: {'yes' if wrong == 0 else f'{wrong} WRONG'}",
        ],
        targets=[
            Target("I7", "briefing render (reopened, case unchanged) <= 2x a bare render of the same HTML", ratio <= 2.0, f"{ratio:.1f}x")
        ],
        ok=wrong == 0,
    )
