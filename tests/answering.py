"""Check-ins to answer now, for the page tests, the matrix and the browser journey. All fictional.

The pages run on the real clock, so these check-ins open an hour ago and expire in two days. Each
is created with a token the test knows (only its hash is stored, as for a real one).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from rapport.clients.models import Case, Client
from rapport.measures import instruments
from rapport.measures.models import Administration, AdministrationStatus, Timing
from rapport.practice.models import Practice
from rapport.practice.services import hash_token
from tests.checkins import CRISIS
from tests.personas import World


def token_for(client: Client, key: str, label: str = "") -> str:
    return f"fictional-{key}-{client.public_id.hex[:12]}{'-' + label if label else ''}-token"


def open_checkin(world: World, who: str = "client", key: str = "phq9", *, label: str = "", **fields: object) -> tuple[Administration, str]:
    """An open check-in of ``who`` (a persona's client record) with its token; made once per label."""
    client: Client = {"client": world.client, "partner_a": world.partner_a, "partner_b": world.partner_b, "other": world.other_client}[who]
    case: Case = {"client": world.individual_case, "other": world.other_case}.get(who, world.couple_case)
    token = token_for(client, key, label)
    existing = Administration.objects.filter(token_hash=hash_token(token)).first()
    if existing is not None:
        return existing, token
    now = timezone.now()
    values: dict[str, object] = {
        "practice_id": case.practice_id,
        "case": case,
        "client": client,
        "instrument_key": key,
        "instrument_version": instruments.load(key).version,
        "timing": Timing.BEFORE,
        "opens_at": now - timedelta(hours=1),
        "due_at": now + timedelta(days=1),
        "expires_at": now + timedelta(days=2),
        "token_hash": hash_token(token),
        "status": AdministrationStatus.PENDING,
    }
    values.update(fields)
    return Administration.objects.create(**values), token


def with_crisis_resources(world: World) -> None:
    Practice.objects.filter(pk=world.practice.pk).update(crisis_resources=CRISIS)
    world.practice.refresh_from_db()
