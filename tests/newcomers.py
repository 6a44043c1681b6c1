"""Clients of therapist A who have no account yet, for the onboarding tests (the personas all have one)."""

from __future__ import annotations

from dataclasses import dataclass

from rapport.clients.models import Case, Client
from rapport.clients.services import case_open, client_create
from tests.personas import World

NEW_PASSWORD = "a-long-fictional-passphrase-for-nina"


@dataclass
class Newcomers:
    """One individual case (Nina) and one couple (Ana and Ben), none of them with an account."""

    nina: Client
    ana: Client
    ben: Client
    nina_case: Case
    couple: Case


def add_newcomers(world: World) -> Newcomers:
    therapist = world.user("therapist_a")
    nina = client_create(actor=therapist, practice=world.practice, full_name="Nina Newcomer", email="nina@mail.example")
    ana = client_create(actor=therapist, practice=world.practice, full_name="Ana Arrival", email="ana@mail.example")
    ben = client_create(actor=therapist, practice=world.practice, full_name="Ben Arrival", email="ben@mail.example")
    nina_case = case_open(actor=therapist, therapist=world.therapist_a, clients=[nina])
    couple = case_open(actor=therapist, therapist=world.therapist_a, clients=[ana, ben])
    return Newcomers(nina=nina, ana=ana, ben=ben, nina_case=nina_case, couple=couple)
