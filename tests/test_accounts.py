from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from rapport.accounts.middleware import SESSION_LOGIN_AT, SESSION_SEEN_AT
from rapport.audit.models import AuditEvent
from rapport.practice.models import StaffInvitation
from rapport.practice.services import staff_invitation_accept, staff_invite, staff_user_create
from tests.personas import PASSWORD


def _age_session(browser: Client, *, idle_seconds: float = 0, since_login_seconds: float = 0) -> None:
    session = browser.session
    now = timezone.now().timestamp()
    session[SESSION_SEEN_AT] = now - idle_seconds
    session[SESSION_LOGIN_AT] = now - since_login_seconds
    session.save()


def test_an_idle_session_is_ended_after_30_minutes(client_as):
    browser = client_as("client")
    assert browser.get("/portal/").status_code == 200
    _age_session(browser, idle_seconds=31 * 60, since_login_seconds=31 * 60)
    response = browser.get("/portal/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert browser.get("/portal/").status_code == 302  # signed out on the server, not just redirected


def test_activity_keeps_a_session_alive(client_as):
    browser = client_as("client")
    _age_session(browser, idle_seconds=29 * 60, since_login_seconds=5 * 3600)
    assert browser.get("/portal/").status_code == 200


def test_a_staff_session_ends_after_12_hours_however_active(client_as):
    browser = client_as("therapist_a")
    _age_session(browser, idle_seconds=10, since_login_seconds=12 * 3600 + 60)
    assert browser.get("/workspace/").status_code == 302


def test_a_client_session_lasts_up_to_7_days(client_as):
    browser = client_as("client")
    _age_session(browser, idle_seconds=10, since_login_seconds=6 * 24 * 3600)
    assert browser.get("/portal/").status_code == 200
    _age_session(browser, idle_seconds=10, since_login_seconds=7 * 24 * 3600 + 60)
    assert browser.get("/portal/").status_code == 302


def test_staff_without_a_second_factor_are_sent_to_set_one_up(world):
    user = staff_user_create(
        actor=None, practice=world.practice, email="new@harbour.example", full_name="Nia New", role="therapist", password=PASSWORD
    )
    browser = Client()
    browser.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    response = browser.get("/workspace/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert browser.get("/accounts/2fa/totp/activate/").status_code in (200, 302)  # reachable (may ask to re-authenticate)


def test_clients_need_no_second_factor(client_as):
    assert client_as("client").get("/portal/").status_code == 200


def _login(browser: Client, email: str, password: str):
    return browser.post("/accounts/login/", {"login": email, "password": password})


def test_a_client_signs_in_with_email_and_password_and_lands_in_the_portal(world):
    browser = Client()
    response = _login(browser, "cora@mail.example", PASSWORD)
    assert response.status_code == 302
    assert browser.get(response["Location"], follow=True).redirect_chain[-1][0] == "/portal/"
    assert AuditEvent.objects.filter(action="login", actor=world.user("client")).count() == 1


def test_a_therapist_is_asked_for_a_second_factor_after_the_password(world):
    browser = Client()
    response = _login(browser, "therapist.a@harbour.example", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert browser.get("/workspace/").status_code == 302  # not signed in yet


def test_a_failed_login_is_audited_without_the_attempted_credentials(world):
    _login(Client(), "cora@mail.example", "wrong password here")
    event = AuditEvent.objects.filter(action="login_failed").get()
    assert event.actor is None
    assert event.detail == {}
    assert "cora" not in str(AuditEvent.objects.filter(pk=event.pk).values().get())


def test_failures_from_many_addresses_still_lock_the_one_account(world):
    for n in range(10):
        Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post("/accounts/login/", {"login": "cora@mail.example", "password": "wrong wrong wrong"})
    response = Client(REMOTE_ADDR="198.51.100.200").post("/accounts/login/", {"login": "cora@mail.example", "password": PASSWORD})
    assert response.status_code == 429


def test_failures_on_other_accounts_do_not_lock_out_someone_else(world):
    browser = Client(REMOTE_ADDR="198.51.100.7")
    for email in ["pat@mail.example", "quinn@mail.example", "olive@mail.example"] * 4:
        browser.post("/accounts/login/", {"login": email, "password": "wrong wrong wrong"})
    response = Client(REMOTE_ADDR="198.51.100.7").post("/accounts/login/", {"login": "cora@mail.example", "password": PASSWORD})
    assert response.status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_is_recorded(world):
    with override_settings(RAPPORT_TRUSTED_PROXIES=1):
        browser = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 192.0.2.44")
        _login(browser, "cora@mail.example", PASSWORD)
    assert AuditEvent.objects.filter(action="login").get().ip_address == "192.0.2.44"
    without_proxy = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    _login(without_proxy, "pat@mail.example", PASSWORD)
    assert AuditEvent.objects.filter(action="login").order_by("-id").first().ip_address == "127.0.0.1"  # type: ignore[union-attr]


def test_ten_failures_lock_the_account_even_for_the_right_password(world):
    browser = Client()
    for _ in range(10):
        _login(browser, "cora@mail.example", "not the password at all")
    response = _login(browser, "cora@mail.example", PASSWORD)
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content
    assert b"paused for 15 minutes" in response.content


def test_passwords_are_hashed_with_argon2_in_production():
    from config import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[-2] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
        from django.contrib.auth.hashers import make_password

        assert make_password("a long enough passphrase").startswith("argon2$argon2id$")


@pytest.mark.parametrize(
    ("password", "ok"),
    [("short", False), ("password1234", False), ("x" * 129, False), ("a calm harbour at dusk", True), ("y" * 64, True)],
)
def test_password_rules(password, ok):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    try:
        validate_password(password)
    except ValidationError:
        assert not ok
    else:
        assert ok


def test_an_admin_invites_a_therapist_who_joins_once(world, client_as):
    admin = client_as("admin")
    assert admin.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    response = admin.post("/workspace/staff/invite/", {"full_name": "Ivy Invited", "email": "ivy@harbour.example", "role": "therapist"})
    assert response.status_code == 302, response.content[:500]
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/workspace/join/[^/\s]+/)", mail.outbox[0].body)
    assert link is not None
    invitation = StaffInvitation.objects.get(email="ivy@harbour.example")
    assert link.group(1).split("/")[-2] not in invitation.token_hash  # only the hash is stored

    newcomer = Client()
    page = newcomer.get(link.group(1))
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "no-referrer"
    joined = newcomer.post(link.group(1), {"full_name": "Ivy Invited", "password1": PASSWORD, "password2": PASSWORD})
    assert joined.status_code == 302
    assert joined["Location"] == "/accounts/2fa/totp/activate/"
    assert newcomer.get("/accounts/2fa/totp/activate/").status_code == 200  # no second password prompt right after joining
    assert Client().get(link.group(1)).status_code == 404  # used once, never again


def test_an_expired_or_unknown_invitation_is_refused(world):
    issued = staff_invite(actor=world.user("admin"), email="late@harbour.example", full_name="Lee Late", role="therapist")
    StaffInvitation.objects.filter(pk=issued.invitation.pk).update(expires_at=timezone.now())
    from rapport.practice.services import InvitationInvalid

    with pytest.raises(InvitationInvalid, match="expired"):
        staff_invitation_accept(token=issued.token, full_name="Lee Late", password=PASSWORD)
    with pytest.raises(InvitationInvalid, match="not valid"):
        staff_invitation_accept(token="made-up-token", full_name="X", password=PASSWORD)


def test_only_a_practice_admin_can_invite(world):
    with pytest.raises(PermissionError):
        staff_invite(actor=world.user("therapist_a"), email="x@harbour.example", full_name="X", role="therapist")


def test_inviting_requires_recent_reauthentication(client_as):
    admin = client_as("admin")  # signed in long enough ago that no recent password entry is on record
    response = admin.post("/workspace/staff/invite/", {"full_name": "Ivy", "email": "ivy@harbour.example", "role": "therapist"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert not StaffInvitation.objects.exists()


def test_staff_without_a_second_factor_set_one_up_right_after_signing_in(world):
    staff_user_create(
        actor=None, practice=world.practice, email="fresh@harbour.example", full_name="Fay Fresh", role="supervisor", password=PASSWORD
    )
    browser = Client()
    response = _login(browser, "fresh@harbour.example", PASSWORD)
    assert response.status_code == 302
    setup = browser.get("/workspace/", follow=True)
    assert setup.redirect_chain[-1][0] == "/accounts/2fa/totp/activate/"  # no password prompt in between
    assert setup.status_code == 200


def test_the_sign_in_page_offers_no_sign_up(db):
    page = Client().get("/accounts/login/")
    assert b"/accounts/signup/" not in page.content
    assert b'<label for="id_login"' in page.content


def test_setting_up_a_second_factor_and_a_wrong_code_are_audited(world, django_capture_on_commit_callbacks):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    staff_user_create(
        actor=None, practice=world.practice, email="fresh@harbour.example", full_name="Fay Fresh", role="therapist", password=PASSWORD
    )
    browser = Client()
    _login(browser, "fresh@harbour.example", PASSWORD)
    page = browser.get("/accounts/2fa/totp/activate/")
    secret = page.context["form"].secret
    counters = list(yield_hotp_counters_from_time())
    code = format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))
    with django_capture_on_commit_callbacks(execute=True):  # allauth announces the new authenticator on commit
        assert browser.post("/accounts/2fa/totp/activate/", {"code": code}).status_code == 302
    user = page.context["user"]
    changes = [e.detail.get("change") for e in AuditEvent.objects.filter(actor=user, action="update")]
    assert "second_factor_added" in changes
    assert not any(secret in str(e.detail) for e in AuditEvent.objects.all())

    browser.post("/accounts/logout/")
    second = Client()
    _login(second, "fresh@harbour.example", PASSWORD)
    second.post("/accounts/2fa/authenticate/", {"code": "000000" if code != "000000" else "111111"})
    failed = AuditEvent.objects.filter(action="login_failed", detail__step="second_factor").get()
    assert failed.object_id == user.public_id


def test_an_operator_creates_a_practice_and_its_first_admin_joins_by_link(db):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command(
        "practice_create", "--name", "Bay Street Therapy", "--slug", "bay", "--time-zone", "America/Toronto",
        "--admin-email", "Owner@Bay.example", "--admin-name", "Olu Owner", stdout=out,
    )  # fmt: skip
    link = re.search(r"https?://\S+(/workspace/join/[^/\s]+/)", out.getvalue())
    assert link is not None
    newcomer = Client()
    joined = newcomer.post(link.group(1), {"full_name": "Olu Owner", "password1": PASSWORD, "password2": PASSWORD})
    assert joined.status_code == 302
    from rapport.accounts.models import User

    owner = User.objects.get(email="owner@bay.example")
    assert owner.role == "practice_admin"
    assert owner.practice.slug == "bay"  # type: ignore[union-attr]
    assert owner.practice.services.count() == 3  # type: ignore[union-attr]
    # Its clients have a consent form to sign from the first day.
    from rapport.consents.models import ConsentVersion

    assert ConsentVersion.objects.filter(document__practice=owner.practice, number=1).count() == 1
    with pytest.raises(CommandError, match="time zone"):
        call_command(
            "practice_create", "--name", "X", "--slug", "x", "--time-zone", "Nowhere/City",
            "--admin-email", "x@x.example", "--admin-name", "X", stdout=StringIO(),
        )  # fmt: skip


def test_practice_create_refuses_a_bad_address_and_can_reinvite(db):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from rapport.practice.models import Practice

    with pytest.raises(CommandError, match="valid email"):
        call_command(
            "practice_create", "--name", "Y", "--slug", "y", "--time-zone", "UTC",
            "--admin-email", "not-an-email", "--admin-name", "Y", stdout=StringIO(),
        )  # fmt: skip
    assert not Practice.objects.filter(slug="y").exists()  # nothing half-made
    call_command(
        "practice_create", "--name", "Y", "--slug", "y", "--time-zone", "UTC", "--contact-email", "hello@y.example",
        "--admin-email", "first@y.example", "--admin-name", "Yan", stdout=StringIO(),
    )  # fmt: skip
    out = StringIO()
    call_command("practice_create", "--reinvite", "--slug", "y", "--admin-email", "first@y.example", "--admin-name", "Yan", stdout=out)
    assert "/workspace/join/" in out.getvalue()
    assert StaffInvitation.objects.filter(practice__slug="y").count() == 2
    assert Practice.objects.get(slug="y").contact_email == "hello@y.example"


def test_rotation_reports_an_mfa_secret_no_key_opens(world):
    import base64

    from allauth.mfa.models import Authenticator
    from django.conf import settings

    from rapport.core.keyrotation import rotate_all

    lost = "lost:" + base64.b64encode(b"L" * 32).decode()
    authenticator = Authenticator.objects.filter(type="totp").first()
    assert authenticator is not None
    with override_settings(RAPPORT_ENCRYPTION_KEYS=lost):
        from rapport.core.keyring import active_keyring

        authenticator.data = {"secret": active_keyring().encrypt(b"SECRETSECRETSECR", b"allauth.mfa.secret")}
        authenticator.save(update_fields=["data"])
    new = "fresh:" + base64.b64encode(b"F" * 32).decode()
    with override_settings(RAPPORT_ENCRYPTION_KEYS=f"{new},{settings.RAPPORT_ENCRYPTION_KEYS}"):
        report = rotate_all()
    assert report.undecryptable == [f"mfa.Authenticator #{authenticator.pk}"]
    assert report.secrets_resealed == Authenticator.objects.filter(type="totp").count() - 1


def test_allauth_sees_the_same_client_address_as_the_audit_trail(rf):
    from rapport.accounts.adapter import AccountAdapter

    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    with override_settings(RAPPORT_TRUSTED_PROXIES=1):
        assert AccountAdapter(request).get_client_ip(request) == "203.0.113.5"
    assert AccountAdapter(request).get_client_ip(request) == "127.0.0.1"
