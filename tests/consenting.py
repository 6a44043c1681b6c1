"""Clients of the personas' world signing their practice's default consent form, for tests and matrix rows."""

from __future__ import annotations

from rapport.clients.models import Client
from rapport.consents.models import ConsentVersion
from rapport.consents.services import SUPERVISION, consent_defaults_create, consent_sign, consent_withdraw


def default_form(client: Client) -> ConsentVersion:
    """The client's practice's default form (published here if the practice has none yet)."""
    return consent_defaults_create(actor=None, practice=client.practice)


def sign_all(client: Client, *, supervision: bool = True) -> None:
    """The client signs the default form themselves, agreeing to every item (supervision as given)."""
    assert client.user is not None
    version = default_form(client)
    choices = {item.key: (supervision if item.key == SUPERVISION else True) for item in version.items.all()}
    consent_sign(actor=client.user, client=client, version=version, typed_name=client.full_name, choices=choices)


def withdraw(client: Client, item_key: str) -> None:
    """The client withdraws one item from their portal."""
    assert client.user is not None
    consent_withdraw(actor=client.user, client=client, item_key=item_key)
