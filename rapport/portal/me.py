"""The signed-in client and their record: what every portal page that acts on "my" record starts from."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from rapport.accounts.decorators import signed_in_user
from rapport.accounts.models import User
from rapport.clients.models import Client
from rapport.clients.selectors import client_of


def signed_in_client(request: HttpRequest) -> tuple[User, Client]:
    """The account and its client record; 404 for a client account not linked to a record yet,
    which has nothing to sign, fill in or export."""
    user = signed_in_user(request)
    client = client_of(user)
    if client is None:
        raise Http404("No client record.")
    return user, client
