from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.core.exceptions import ValidationError
from django.test import Client

from rapport.audit.models import AuditEvent
from rapport.practice.models import StaffInvitation, Therapist
from rapport.practice.services import InvitationInvalid, staff_invitation_accept, staff_invitation_revoke, staff_invite, staff_set_active
from tests.personas import PASSWORD


def _reauthenticated_admin(client_as) -> Client:
    admin = client_as("admin")
    assert admin.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    return admin


def test_deactivating_a_therapist_ends_their_sessions_at_once(world, client_as):
    therapist = Client()
    therapist.force_login(world.user("therapist_b"), backend="django.contrib.auth.backends.ModelBackend")
    UserSession.objects.create(user=world.user("therapist_b"), ip="127.0.0.1", session_key=therapist.session.session_key)
    assert therapist.get("/workspace/").status_code == 200

    admin = _reauthenticated_admin(client_as)
    response = admin.post(f"/workspace/staff/{world.user('therapist_b').public_id}/access/", {"active": "0"})
    assert response.status_code == 302
    assert therapist.get("/workspace/").status_code == 302  # signed out, on the server
    assert not Therapist.objects.get(user=world.user("therapist_b")).is_active
    refused = Client().post("/accounts/login/", {"login": "therapist.b@harbour.example", "password": PASSWORD})
    assert refused["Location"] == "/accounts/inactive/"
    event = AuditEvent.objects.filter(object_id=world.user("therapist_b").public_id, detail__change="deactivated").get()
    assert event.actor == world.user("admin")

    admin.post(f"/workspace/staff/{world.user('therapist_b').public_id}/access/", {"active": "1"})
    again = Client().post("/accounts/login/", {"login": "therapist.b@harbour.example", "password": PASSWORD})
    assert again["Location"] == "/accounts/2fa/authenticate/"


def test_an_admin_cannot_lock_themselves_out(world):
    with pytest.raises(ValidationError, match="your own access"):
        staff_set_active(actor=world.user("admin"), member=world.user("admin"), active=False)


def test_another_practices_staff_cannot_be_touched(world, client_as):
    admin = _reauthenticated_admin(client_as)
    from rapport.accounts.models import User

    outsider = User.objects.get(email="therapist@elsewhere.example")
    assert admin.post(f"/workspace/staff/{outsider.public_id}/access/", {"active": "0"}).status_code == 404
    outsider.refresh_from_db()
    assert outsider.is_active
    with pytest.raises(PermissionError):
        staff_set_active(actor=world.user("admin"), member=outsider, active=False)


def test_a_withdrawn_invitation_link_stops_working(world, client_as):
    issued = staff_invite(actor=world.user("admin"), email="wren@harbour.example", full_name="Wren", role="therapist")
    response = client_as("admin").post(f"/workspace/staff/invitations/{issued.invitation.public_id}/revoke/")
    assert response.status_code == 302
    assert StaffInvitation.objects.get(pk=issued.invitation.pk).revoked_at is not None
    with pytest.raises(InvitationInvalid, match="withdrawn"):
        staff_invitation_accept(token=issued.token, full_name="Wren", password=PASSWORD)
    assert Client().get(f"/workspace/join/{issued.token}/").status_code == 404


def test_a_used_invitation_cannot_be_withdrawn(world):
    issued = staff_invite(actor=world.user("admin"), email="ivo@harbour.example", full_name="Ivo", role="therapist")
    staff_invitation_accept(token=issued.token, full_name="Ivo", password=PASSWORD)
    issued.invitation.refresh_from_db()
    with pytest.raises(ValidationError, match="already been used"):
        staff_invitation_revoke(actor=world.user("admin"), invitation=issued.invitation)
