"""Background sending of client invitation emails (see ``rapport.clients.onboarding``)."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from rapport.clients.onboarding import invitation_email_send


# A refused or unreachable mail server is retried a few times; a duplicate email at worst repeats
# the same link, which is harmless, while a lost one leaves the client waiting.
@db_task(retries=3, retry_delay=60)
def client_invitation_email_send(invitation_public_id: str, sealed_token: str) -> bool:
    return invitation_email_send(invitation_public_id, sealed_token)
