"""Completed check-ins at chosen times, for the results pages' tests. All answers are fictional.

Each check-in is created open around its time and sent through ``answers_save`` as its client, so
the stored score is the one the real path stores.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from rapport.clients.models import Case, Client
from rapport.measures import instruments
from rapport.measures.models import Administration, Timing
from rapport.measures.services import answers_save
from rapport.practice.services import hash_token
from tests.personas import World


def when(month: int, day: int, hour: int = 15) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def sent(client: Client, case: Case, key: str, answers: dict[str, Any], at: datetime, timing: str = Timing.BEFORE) -> Administration:
    """``client`` answers ``key`` for ``case`` at ``at`` and sends it."""
    administration = Administration.objects.create(
        practice=case.practice,
        case=case,
        client=client,
        instrument_key=key,
        instrument_version=instruments.load(key).version,
        timing=timing,
        opens_at=at - timedelta(hours=1),
        due_at=at + timedelta(hours=1),
        expires_at=at + timedelta(days=1),
        token_hash=hash_token(f"results-{uuid.uuid4()}"),
    )
    answers_save(administration=administration, answers=answers, final=True, actor=client.user, now=at)
    administration.refresh_from_db()
    return administration


def phq9(total: int | None, *, missing: int = 0) -> dict[str, int | None]:
    """A PHQ-9 with items 1-8 adding up to ``total`` (item 9 "Not at all"), ``missing`` of items 1-8 blank."""
    values: list[int | None] = []
    left = total or 0
    for _ in range(8):
        values.append(min(3, left))
        left -= values[-1]
    assert left == 0, "items 1-8 add up to 24 at most"
    for index in range(missing):
        values[7 - index] = None
    return {**{f"phq9_{n}": value for n, value in enumerate(values, start=1)}, "phq9_9": 0}


def gad7(total: int) -> dict[str, int]:
    values = []
    left = total
    for _ in range(7):
        values.append(min(3, left))
        left -= values[-1]
    return {f"gad7_{n}": value for n, value in enumerate(values, start=1)}


# Items 1-6 at 2, items 7 and 8 blank: each filled with the mean of the answered ones (2), total 16.
PRORATED_16: dict[str, int | None] = {**{f"phq9_{n}": 2 for n in range(1, 7)}, "phq9_7": None, "phq9_8": None, "phq9_9": 0}
CORA_NOTE = "Fictional: I left the session with a question I did not dare to ask."
PAT_NOTE = "Fictional: it was hard to talk with Quinn in the room today."
QUINN_AGENDA = "Fictional: Quinn wants to talk about the holidays."


def cora_course(world: World) -> dict[str, Administration]:
    """Cora's PHQ-9: 18, 15, a prorated 16 (items 7 and 8 blank, filled with the mean 2), one with three
    items blank (no score), then 9: a fall of 9 from her first, reliable by the 6-point rule. Her GAD-7
    once, and one after-session check-in with a note."""
    client, case = world.client, world.individual_case
    return {
        "phq9_first": sent(client, case, "phq9", phq9(18), when(3, 3)),
        "phq9_second": sent(client, case, "phq9", phq9(15), when(3, 17)),
        "phq9_prorated": sent(client, case, "phq9", PRORATED_16, when(3, 24)),
        "phq9_unscored": sent(client, case, "phq9", phq9(6, missing=3), when(3, 31)),
        "phq9_latest": sent(client, case, "phq9", phq9(9), when(4, 14)),
        "gad7": sent(client, case, "gad7", gad7(11), when(3, 3)),
        "alliance": sent(
            client, case, "alliance", {"goals": 7, "tasks": 6, "bond": 9, "note": CORA_NOTE}, when(3, 3, 18), timing=Timing.AFTER
        ),
    }


def couple_course(world: World) -> dict[str, Administration]:
    """Both partners answer the before-session check-in twice; Pat writes a note after a session."""
    case = world.couple_case
    pat, quinn = world.partner_a, world.partner_b
    return {
        "pat_first": sent(pat, case, "presession", {"week": 3}, when(3, 5)),
        "pat_latest": sent(pat, case, "presession", {"week": 8}, when(3, 19)),
        "quinn_first": sent(quinn, case, "presession", {"week": 6, "agenda": QUINN_AGENDA}, when(3, 5)),
        "quinn_latest": sent(quinn, case, "presession", {"week": 2}, when(3, 19)),
        "pat_alliance": sent(
            pat, case, "alliance", {"goals": 5, "tasks": 4, "bond": 3, "note": PAT_NOTE}, when(3, 5, 18), timing=Timing.AFTER
        ),
    }
