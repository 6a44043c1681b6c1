from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.models import STAFF_ROLES

SESSION_LOGIN_AT = "rapport_login_at"
SESSION_SEEN_AT = "rapport_seen_at"
# Writing the session on every request would cost a write per page; a minute's precision is plenty.
_SEEN_RESOLUTION_SECONDS = 60


def _redirect_to_login(request: HttpRequest) -> HttpResponse:
    url = reverse(settings.LOGIN_URL)
    response = HttpResponseRedirect(url)
    if getattr(request, "htmx", False):
        response["HX-Redirect"] = url
    return response


class SessionLifetimeMiddleware:
    """Idle and absolute session limits, enforced on the server (ASVS 4.0.3 3.3.2, 5.0 7.3.1/7.3.2).

    Staff: 30 minutes idle, 12 hours absolute. Clients: 30 minutes idle, 7 days absolute.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            now = timezone.now().timestamp()
            session = request.session
            login_at = session.get(SESSION_LOGIN_AT)
            seen_at = session.get(SESSION_SEEN_AT)
            if login_at is None or seen_at is None:
                # A session without our markers (e.g. made before this middleware) starts its clock now.
                session[SESSION_LOGIN_AT] = login_at = now
                session[SESSION_SEEN_AT] = seen_at = now
            absolute_hours = (
                settings.RAPPORT_STAFF_SESSION_ABSOLUTE_HOURS
                if getattr(user, "role", None) in STAFF_ROLES
                else settings.RAPPORT_CLIENT_SESSION_ABSOLUTE_HOURS
            )
            idle_expired = now - seen_at > settings.RAPPORT_SESSION_IDLE_MINUTES * 60
            absolute_expired = now - login_at > absolute_hours * 3600
            if idle_expired or absolute_expired:
                logout(request)
                messages.info(
                    request,
                    "You were signed out after a period of inactivity."
                    if idle_expired
                    else "Your session reached its time limit. Please sign in again.",
                )
                return _redirect_to_login(request)
            if now - seen_at >= _SEEN_RESOLUTION_SECONDS:
                session[SESSION_SEEN_AT] = now
        return self.get_response(request)


# Pages a staff member without a second factor may still reach: setting one up, signing out, and
# the email and re-authentication steps that setup can require.
_MFA_SETUP_PATH_PREFIXES = ("/accounts/", "/static/")


class StaffMFARequiredMiddleware:
    """Staff must have a second factor before they reach anything else (ASVS 5.0 6.3.3)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "role", None) in STAFF_ROLES
            and not request.path.startswith(_MFA_SETUP_PATH_PREFIXES)
            and not Authenticator.objects.filter(user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]).exists()
        ):
            messages.info(request, "Staff accounts need a second factor. Set up an authenticator app to continue.")
            url = reverse("mfa_activate_totp")
            response = HttpResponseRedirect(url)
            if getattr(request, "htmx", False):
                response["HX-Redirect"] = url
            return response
        return self.get_response(request)
