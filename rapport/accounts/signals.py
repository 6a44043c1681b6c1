"""Every authentication success, failure and sign-out goes to the audit trail (ASVS 5.0 16.3.1)."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from rapport.accounts.middleware import SESSION_LOGIN_AT, SESSION_SEEN_AT
from rapport.accounts.models import STAFF_ROLES
from rapport.audit.models import Action
from rapport.audit.services import audit_record


def _practice_public_id(user: Any) -> Any:
    practice = getattr(user, "practice", None)
    return practice.public_id if practice is not None else None


def _audit_account(*, actor: Any, user: Any, action: Action, request: HttpRequest | None, detail: dict[str, str] | None = None) -> None:
    """An event about a person's account (never the credential or value that changed)."""
    audit_record(
        actor=actor,
        action=action,
        object_type="accounts.user",
        object_id=getattr(user, "public_id", None),
        practice_id=_practice_public_id(user),
        request=request,
        detail=detail,
    )


@receiver(user_logged_in)
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = timezone.now().timestamp()
        request.session[SESSION_LOGIN_AT] = now
        request.session[SESSION_SEEN_AT] = now
    if request is not None and getattr(user, "role", None) in STAFF_ROLES and not Authenticator.objects.filter(user=user).exists():
        # A staff member without a second factor is sent straight to set one up, and that page asks
        # for a recent password entry: the sign-in that just happened is one, so record it as such
        # rather than asking for the password twice in a row.
        record_authentication(request, user, method="password", email=user.email, reauthenticated=True)
    _audit_account(actor=user, user=user, action=Action.LOGIN, request=request)


@receiver(user_logged_out)
def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    _audit_account(actor=user, user=user, action=Action.LOGOUT, request=request)


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    # The attempted identifier and password are deliberately not recorded (ASVS 5.0 16.2.5).
    audit_record(actor=None, action=Action.LOGIN_FAILED, object_type="accounts.user", request=request)


# Account security changes: what changed, never the new value (ASVS 5.0 16.3.1, 16.2.5).
_ACCOUNT_CHANGES = {
    account_signals.password_changed: "password_changed",
    account_signals.password_set: "password_set",
    account_signals.password_reset: "password_reset",
    account_signals.email_added: "email_added",
    account_signals.email_removed: "email_removed",
    account_signals.email_changed: "email_changed",
    mfa_signals.authenticator_added: "second_factor_added",
    mfa_signals.authenticator_removed: "second_factor_removed",
    mfa_signals.authenticator_reset: "second_factor_reset",
}


def _record_account_change(change: str) -> Any:
    def receiver_(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
        if user is None:
            return
        detail: dict[str, str] = {"change": change}
        authenticator = kwargs.get("authenticator")
        if authenticator is not None:
            detail["kind"] = str(authenticator.type)
        _audit_account(actor=user, user=user, action=Action.UPDATE, request=request, detail=detail)

    return receiver_


for _signal, _change in _ACCOUNT_CHANGES.items():
    _signal.connect(_record_account_change(_change), weak=False, dispatch_uid=f"rapport.audit.{_change}")


@receiver(mfa_signals.authentication_failed)
def _on_second_factor_failed(sender: Any, request: HttpRequest | None = None, user: Any = None, **kwargs: Any) -> None:
    _audit_account(actor=None, user=user, action=Action.LOGIN_FAILED, request=request, detail={"step": "second_factor"})
