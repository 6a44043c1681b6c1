"""The people every permission test is written against (STYLE.md, convention 9).

Practice "Harbour" holds: a practice admin, therapist A (treats both cases), therapist B (same
practice, treats neither), a supervisor (supervises therapist A), an individual client, and the
two partners of a couple. Practice "Elsewhere" holds one client of another practice. Anonymous is
the visitor with no account. Staff personas have a TOTP authenticator, as staff must.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from allauth.mfa.totp.internal.auth import TOTP

from rapport.accounts.models import Role, User
from rapport.clients.models import Case, CaseStatus, Client
from rapport.clients.services import case_open, case_update_summary, client_account_create, client_create
from rapport.practice.models import Practice, Therapist
from rapport.practice.services import practice_create, staff_user_create, supervision_create

PASSWORD = "correct-horse-battery-staple"
TOTP_SECRET = "PERSONASTOTPSECRETFORTESTSONLYAA"

PERSONAS = (
    "anonymous",
    "admin",
    "therapist_a",
    "therapist_b",
    "supervisor",
    "client",
    "partner_a",
    "partner_b",
    "other_practice_client",
)


@dataclass
class World:
    practice: Practice
    other_practice: Practice
    users: dict[str, User | None]
    therapist_a: Therapist
    therapist_b: Therapist
    client: Client
    partner_a: Client
    partner_b: Client
    other_client: Client
    individual_case: Case
    couple_case: Case
    other_case: Case

    def user(self, persona: str) -> User | None:
        return self.users[persona]


def _staff(practice: Practice, email: str, name: str, role: str) -> User:
    user = staff_user_create(actor=None, practice=practice, email=email, full_name=name, role=role, password=PASSWORD)
    TOTP.activate(user, TOTP_SECRET)
    return user


def _client_with_account(practice: Practice, name: str, email: str) -> tuple[Client, User]:
    client = client_create(actor=None, practice=practice, full_name=name, email=email)
    return client, client_account_create(actor=None, client=client, password=PASSWORD)


def build_world(**overrides: Any) -> World:
    practice = practice_create(actor=None, name="Harbour Therapy", slug="harbour", time_zone="America/Toronto")
    other = practice_create(actor=None, name="Elsewhere Counselling", slug="elsewhere", time_zone="Europe/London")
    admin = _staff(practice, "admin@harbour.example", "Ada Admin", Role.PRACTICE_ADMIN)
    therapist_a_user = _staff(practice, "therapist.a@harbour.example", "Theo Treating", Role.THERAPIST)
    therapist_b_user = _staff(practice, "therapist.b@harbour.example", "Bea Bystander", Role.THERAPIST)
    supervisor = _staff(practice, "supervisor@harbour.example", "Sol Supervisor", Role.SUPERVISOR)
    other_therapist_user = _staff(other, "therapist@elsewhere.example", "Otto Other", Role.THERAPIST)
    therapist_a = Therapist.objects.get(user=therapist_a_user)
    therapist_b = Therapist.objects.get(user=therapist_b_user)
    supervision_create(actor=None, supervisor=supervisor, therapist=therapist_a)

    client, client_user = _client_with_account(practice, "Cora Client", "cora@mail.example")
    partner_a, partner_a_user = _client_with_account(practice, "Pat Partner", "pat@mail.example")
    partner_b, partner_b_user = _client_with_account(practice, "Quinn Partner", "quinn@mail.example")
    other_client, other_client_user = _client_with_account(other, "Olive Outsider", "olive@mail.example")

    individual_case = case_open(actor=therapist_a_user, therapist=therapist_a, clients=[client], status=CaseStatus.ACTIVE)
    case_update_summary(actor=therapist_a_user, case=individual_case, summary="Fictional summary for Cora.")
    couple_case = case_open(actor=therapist_a_user, therapist=therapist_a, clients=[partner_a, partner_b], status=CaseStatus.ACTIVE)
    other_case = case_open(
        actor=other_therapist_user,
        therapist=Therapist.objects.get(user=other_therapist_user),
        clients=[other_client],
        status=CaseStatus.ACTIVE,
    )
    return World(
        practice=practice,
        other_practice=other,
        users={
            "anonymous": None,
            "admin": admin,
            "therapist_a": therapist_a_user,
            "therapist_b": therapist_b_user,
            "supervisor": supervisor,
            "client": client_user,
            "partner_a": partner_a_user,
            "partner_b": partner_b_user,
            "other_practice_client": other_client_user,
        },
        therapist_a=therapist_a,
        therapist_b=therapist_b,
        client=client,
        partner_a=partner_a,
        partner_b=partner_b,
        other_client=other_client,
        individual_case=individual_case,
        couple_case=couple_case,
        other_case=other_case,
    )
