"""Check-in submission (Issue 5): the median time of sending a whole PHQ-9 through its one-time link.

Each timed call is the real ``answers_save(final=True, token=...)`` on its own pending
administration with all ten answers at once, as the review page's Send does after the client's
partial saves: row lock, token check, validation, scoring, the claim, the encrypted answers and
the audit event, in one transaction. Item 9 is answered "Not at all", so no alert is raised and no
email task runs; the risk path is tested, not timed.

Beside it, in the same run: one partial save (one question's Next), and a baseline of the least a
submission must write, the encrypted answers and the status saved on a row in one transaction with
no lock, scoring, claim or audit. No target exists for this figure in RELIABILITY.md; a person
pressing Send notices anything above a few hundred milliseconds.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from benchmarks.timing import Result, median, quantile, spread

SIZE = {False: 300, True: 30}
WARMUP = 5
# Fictional answers: items 1-8 mixed, item 9 "Not at all" (no risk), the difficulty question answered.
ANSWERS: dict[str, object] = {
    **{f"phq9_{n}": (n * 7) % 4 for n in range(1, 9)},
    "phq9_9": 0,
    "phq9_difficulty": 1,
}
EXPECTED_TOTAL = sum(value for key, value in ANSWERS.items() if key != "phq9_difficulty")  # type: ignore[misc]


def _administrations(world: Any, count: int) -> list[tuple[Any, str]]:
    from rapport.clients.models import CaseStatus
    from rapport.clients.services import case_open
    from rapport.measures import instruments
    from rapport.measures.models import Administration, Timing
    from rapport.practice.services import hash_token

    case = case_open(actor=world.user, therapist=world.therapist, clients=[world.client], status=CaseStatus.ACTIVE)
    version = instruments.load("phq9").version
    now = timezone.now()
    rows = []
    for _ in range(count):
        token = secrets.token_urlsafe(32)
        administration = Administration.objects.create(
            practice=world.practice,
            case=case,
            client=world.client,
            instrument_key="phq9",
            instrument_version=version,
            timing=Timing.BEFORE,
            opens_at=now - timedelta(hours=1),
            due_at=now + timedelta(days=1),
            expires_at=now + timedelta(days=2),
            token_hash=hash_token(token),
        )
        rows.append((administration, token))
    return rows


def _ms(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def checkin_submission(world: Any, *, quick: bool) -> Result:
    """Median milliseconds of one final PHQ-9 submission through the link, against a bare encrypted save."""
    from rapport.measures.models import Administration, AdministrationStatus
    from rapport.measures.services import answers_save

    count = SIZE[quick]
    sends = _administrations(world, count + WARMUP)
    partials = _administrations(world, count)
    bare_rows = _administrations(world, count)
    for administration, token in sends[:WARMUP]:
        answers_save(administration=administration, answers=ANSWERS, final=True, token=token)
    sends = sends[WARMUP:]

    final_ms = [_ms(lambda a=a, t=t: answers_save(administration=a, answers=ANSWERS, final=True, token=t)) for a, t in sends]
    partial_ms = [_ms(lambda a=a, t=t: answers_save(administration=a, answers={"phq9_1": 2}, final=False, token=t)) for a, t in partials]

    def bare(administration: Any) -> None:
        with transaction.atomic():
            administration.answers = dict(ANSWERS)
            administration.status = AdministrationStatus.COMPLETED
            administration.save(update_fields=["answers", "status", "updated_at"])

    bare_ms = [_ms(lambda a=a: bare(a)) for a, _ in bare_rows]

    # Correctness: every timed submission is stored as sent, with the hand-computed total and no risk.
    ids = [a.pk for a, _ in sends]
    stored = list(Administration.objects.filter(pk__in=ids).values_list("status", "total", "risk"))
    wrong = sum(1 for status, total, risk in stored if status != AdministrationStatus.COMPLETED or total != EXPECTED_TOTAL or risk)
    wrong += count - len(stored)
    final, base = median(final_ms), median(bare_ms)
    return Result(
        name="checkin_submission",
        size=count,
        median=f"{final:.2f} ms per submission",
        baseline=f"{base:.2f} ms bare encrypted save",
        ratio=f"{final / base:.1f}x",
        runs=f"{count} sends, {count} partial saves, {count} bare",
        details=[
            f"final save (PHQ-9, 10 answers, via the link): median {final:.2f} ms, p90 {quantile(final_ms, 0.9):.2f} ms, "
            f"{spread(final_ms)} ms; one partial save (one question): median {median(partial_ms):.2f} ms",
            f"stored totals checked against the hand sum {EXPECTED_TOTAL}: {'all agree' if wrong == 0 else f'{wrong} WRONG'}",
        ],
        ok=wrong == 0,
    )
