"""Onboarding: the therapist's invitation, the client's first account, and the rules around both."""

from __future__ import annotations

import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.audit.models import Action, AuditEvent
from rapport.clients import onboarding
from rapport.clients.models import Case, CaseStatus, Client, ClientInvitation
from rapport.clients.onboarding import (
    EXPIRED,
    HAS_ACCOUNT,
    REVOKED,
    UNKNOWN,
    USED,
    client_invitation_accept,
    client_invitation_for_token,
    client_invitation_revoke,
    client_invite,
    invitation_email_send,
    portal_access_of,
    token_seal,
)
from rapport.clients.services import case_set_status
from rapport.practice.services import InvitationInvalid, hash_token
from tests.newcomers import NEW_PASSWORD, Newcomers, add_newcomers
from tests.personas import World, build_world


@pytest.fixture
def newcomers(world: World) -> Newcomers:
    return add_newcomers(world)


def _invite(world: World, case: Case, client: Client) -> onboarding.IssuedClientInvitation:
    return client_invite(actor=world.user("therapist_a"), case=case, client=client)


# --- Who may invite whom -------------------------------------------------------------------------------


def test_the_cases_therapist_invites_and_the_invitation_is_audited(world, newcomers):
    issued = _invite(world, newcomers.nina_case, newcomers.nina)

    invitation = issued.invitation
    assert invitation.client == newcomers.nina
    assert invitation.case == newcomers.nina_case
    assert invitation.invited_by == world.user("therapist_a")
    # Only the hash is kept: the token itself is nowhere in the row.
    assert invitation.token_hash == hash_token(issued.token)
    assert issued.token not in str(ClientInvitation.objects.filter(pk=invitation.pk).values().get())
    assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)
    event = AuditEvent.objects.filter(action=Action.INVITE, object_type="clients.clientinvitation").get()
    assert event.client_id == newcomers.nina.public_id
    assert event.actor == world.user("therapist_a")


@pytest.mark.parametrize("persona", ["therapist_b", "supervisor", "admin", "client", "partner_a", "other_practice_client"])
def test_nobody_but_the_cases_therapist_may_invite(world, newcomers, persona):
    with pytest.raises(PermissionError):
        client_invite(actor=world.user(persona), case=newcomers.nina_case, client=newcomers.nina)
    assert not ClientInvitation.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.INVITE).exists()


def test_a_client_with_an_account_is_not_invited(world):
    with pytest.raises(ValidationError) as refused:
        _invite(world, world.individual_case, world.client)
    assert refused.value.messages == [HAS_ACCOUNT]
    assert not ClientInvitation.objects.exists()


def test_a_client_of_another_case_is_not_invited_through_this_one(world, newcomers):
    with pytest.raises(ValidationError, match="not a client of this case"):
        _invite(world, newcomers.nina_case, newcomers.ana)
    assert not ClientInvitation.objects.exists()


def test_a_closed_case_invites_nobody(world, newcomers):
    case_set_status(actor=world.user("therapist_a"), case=newcomers.nina_case, status=CaseStatus.CLOSED)
    with pytest.raises(ValidationError, match="closed"):
        _invite(world, newcomers.nina_case, newcomers.nina)
    assert not ClientInvitation.objects.exists()


def test_an_address_already_used_by_an_account_is_refused(world, newcomers):
    Client.objects.filter(pk=newcomers.nina.pk).update(email="therapist.b@harbour.example")
    newcomers.nina.refresh_from_db()
    with pytest.raises(ValidationError, match="already exists"):
        _invite(world, newcomers.nina_case, newcomers.nina)


def test_a_new_invitation_replaces_the_pending_one(world, newcomers):
    first = _invite(world, newcomers.nina_case, newcomers.nina)
    second = _invite(world, newcomers.nina_case, newcomers.nina)

    with pytest.raises(InvitationInvalid) as refused:
        client_invitation_for_token(first.token)
    assert str(refused.value) == REVOKED
    assert client_invitation_for_token(second.token) == second.invitation


def test_each_partner_is_invited_on_their_own(world, newcomers):
    for_ana = _invite(world, newcomers.couple, newcomers.ana)
    for_ben = _invite(world, newcomers.couple, newcomers.ben)
    # Inviting Ben leaves Ana's link working.
    assert client_invitation_for_token(for_ana.token).client == newcomers.ana
    assert client_invitation_for_token(for_ben.token).client == newcomers.ben


def test_the_therapist_can_withdraw_an_invitation_and_others_cannot(world, newcomers):
    issued = _invite(world, newcomers.nina_case, newcomers.nina)
    with pytest.raises(PermissionError):
        client_invitation_revoke(actor=world.user("therapist_b"), invitation=issued.invitation)
    client_invitation_revoke(actor=world.user("therapist_a"), invitation=issued.invitation)
    with pytest.raises(InvitationInvalid, match="withdrawn"):
        client_invitation_for_token(issued.token)


# --- The email ---------------------------------------------------------------------------------------------


def test_the_email_goes_out_on_commit_with_the_link_and_nothing_clinical(world, newcomers, settings, django_capture_on_commit_callbacks):
    settings.SITE_URL = "https://harbour.example"
    case_summary = "Fictional working summary: never in an email."
    newcomers.nina_case.summary = case_summary
    newcomers.nina_case.save(update_fields=["summary"])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        issued = _invite(world, newcomers.nina_case, newcomers.nina)
    assert mail.outbox == []  # nothing leaves before the invitation has committed
    for callback in callbacks:
        callback()

    (message,) = mail.outbox
    assert message.to == ["nina@mail.example"]
    assert "Theo Treating" in message.subject
    assert "Harbour Therapy" in message.subject
    link = "https://harbour.example" + reverse("portal:welcome", kwargs={"token": issued.token})
    assert link in message.body
    assert "Hello Nina," in message.body
    expires = issued.invitation.expires_at.astimezone(ZoneInfo("America/Toronto"))
    assert f"{expires.day} {expires:%B %Y}, {expires:%H:%M} (America/Toronto)" in message.body
    assert case_summary not in message.body
    assert "Nina Newcomer" not in message.body  # a first name to greet, no full name on the wire


def test_the_sender_sends_nothing_for_a_replaced_invitation(world, newcomers):
    first = _invite(world, newcomers.nina_case, newcomers.nina)
    _invite(world, newcomers.nina_case, newcomers.nina)
    mail.outbox.clear()

    assert invitation_email_send(str(first.invitation.public_id), token_seal(first.invitation, first.token)) is False
    assert mail.outbox == []


def test_a_sealed_token_opens_only_for_its_own_invitation(world, newcomers):
    for_ana = _invite(world, newcomers.couple, newcomers.ana)
    for_ben = _invite(world, newcomers.couple, newcomers.ben)
    mail.outbox.clear()
    assert invitation_email_send(str(for_ben.invitation.public_id), token_seal(for_ana.invitation, for_ana.token)) is False
    assert mail.outbox == []


# --- Accepting -----------------------------------------------------------------------------------------------


def test_accepting_creates_a_verified_client_account_linked_to_the_record(world, newcomers):
    issued = _invite(world, newcomers.nina_case, newcomers.nina)

    user = client_invitation_accept(token=issued.token, password=NEW_PASSWORD)

    assert (user.role, user.practice, user.full_name, user.email) == (Role.CLIENT, world.practice, "Nina Newcomer", "nina@mail.example")
    assert user.check_password(NEW_PASSWORD)
    newcomers.nina.refresh_from_db()
    assert newcomers.nina.user == user
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("nina@mail.example", True, True)
    issued.invitation.refresh_from_db()
    assert issued.invitation.accepted_at is not None
    accepted = AuditEvent.objects.get(object_type="clients.clientinvitation", action=Action.UPDATE)
    assert accepted.actor == user
    assert accepted.client_id == newcomers.nina.public_id


def test_a_replayed_link_is_refused_and_changes_nothing(world, newcomers):
    issued = _invite(world, newcomers.nina_case, newcomers.nina)
    client_invitation_accept(token=issued.token, password=NEW_PASSWORD)
    users, events = User.objects.count(), AuditEvent.objects.count()

    with pytest.raises(InvitationInvalid) as refused:
        client_invitation_accept(token=issued.token, password="another-fictional-passphrase")
    assert str(refused.value) == USED
    assert (User.objects.count(), AuditEvent.objects.count()) == (users, events)
    assert User.objects.get(email="nina@mail.example").check_password(NEW_PASSWORD)


def test_an_expired_link_is_refused_and_changes_nothing(world, newcomers):
    issued = _invite(world, newcomers.nina_case, newcomers.nina)
    ClientInvitation.objects.filter(pk=issued.invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(InvitationInvalid) as refused:
        client_invitation_accept(token=issued.token, password=NEW_PASSWORD)
    assert str(refused.value) == EXPIRED
    assert not User.objects.filter(email="nina@mail.example").exists()
    assert ClientInvitation.objects.get(pk=issued.invitation.pk).accepted_at is None


def test_a_withdrawn_link_is_refused(world, newcomers):
    issued = _invite(world, newcomers.nina_case, newcomers.nina)
    client_invitation_revoke(actor=world.user("therapist_a"), invitation=issued.invitation)
    with pytest.raises(InvitationInvalid) as refused:
        client_invitation_accept(token=issued.token, password=NEW_PASSWORD)
    assert str(refused.value) == REVOKED
    assert not User.objects.filter(email="nina@mail.example").exists()


@pytest.mark.parametrize("token", ["", "x", "bogus-invitation-token-0000", "A" * 500])
def test_an_unknown_link_is_refused(world, newcomers, token):
    _invite(world, newcomers.nina_case, newcomers.nina)
    with pytest.raises(InvitationInvalid) as refused:
        client_invitation_accept(token=token, password=NEW_PASSWORD)
    assert str(refused.value) == UNKNOWN
    assert not User.objects.filter(email="nina@mail.example").exists()


def test_of_two_simultaneous_acceptances_only_one_claims_the_link(world, newcomers, monkeypatch):
    """The other request wins between our lookup and our claim: the conditional UPDATE notices."""
    issued = _invite(world, newcomers.nina_case, newcomers.nina)
    lookup = onboarding.client_invitation_for_token

    def looked_up_just_before_the_other_request_claimed_it(token: str) -> ClientInvitation:
        invitation = lookup(token)
        ClientInvitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
        return invitation

    monkeypatch.setattr(onboarding, "client_invitation_for_token", looked_up_just_before_the_other_request_claimed_it)

    with pytest.raises(InvitationInvalid) as refused:
        client_invitation_accept(token=issued.token, password=NEW_PASSWORD)
    assert str(refused.value) == USED
    assert not User.objects.filter(email="nina@mail.example").exists()
    newcomers.nina.refresh_from_db()
    assert newcomers.nina.user is None


@pytest.mark.django_db(transaction=True)
def test_six_simultaneous_acceptances_make_one_account():
    """The same link submitted from six threads at once, on the real database: one account, five refusals."""
    world = build_world()
    newcomers = add_newcomers(world)
    token = _invite(world, newcomers.nina_case, newcomers.nina).token
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(6)

    def accept() -> None:
        try:
            barrier.wait()
            try:
                client_invitation_accept(token=token, password=NEW_PASSWORD)
                result = "accepted"
            except InvitationInvalid as exc:
                result = str(exc)
            with lock:
                outcomes.append(result)
        except Exception as exc:
            with lock:
                outcomes.append(f"error: {type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(["accepted"] + [USED] * 5)
    assert User.objects.filter(email="nina@mail.example").count() == 1


def test_a_weak_password_is_refused_and_the_link_still_works(world, newcomers):
    issued = _invite(world, newcomers.nina_case, newcomers.nina)
    for weak in ("short", "nina@mail.example", "x" * 129):
        with pytest.raises(ValidationError):
            client_invitation_accept(token=issued.token, password=weak)
    assert not User.objects.filter(email="nina@mail.example").exists()
    assert client_invitation_for_token(issued.token) == issued.invitation


def test_a_client_who_got_an_account_another_way_cannot_use_an_old_link(world, newcomers):
    issued = _invite(world, newcomers.nina_case, newcomers.nina)
    onboarding.client_account_create(actor=None, client=newcomers.nina, password=NEW_PASSWORD)
    with pytest.raises(InvitationInvalid) as refused:
        client_invitation_accept(token=issued.token, password="another-fictional-passphrase")
    assert str(refused.value) == USED


# --- Where each client stands, for the case page -------------------------------------------------------------


def test_portal_access_shows_each_partner_on_their_own(world, newcomers):
    _invite(world, newcomers.couple, newcomers.ana)
    rows = {row.client: row for row in portal_access_of(newcomers.couple)}
    assert rows[newcomers.ana].state == "pending"
    assert rows[newcomers.ben].state == "none"
    assert {row.state for row in portal_access_of(world.couple_case)} == {"account"}
