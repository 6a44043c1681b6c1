from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.urls import reverse

from rapport.core.client_ip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Nobody signs up unasked: staff arrive by invitation, clients through their therapist.
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("accounts:home")

    def get_client_ip(self, request: HttpRequest) -> str:
        # The same address as the audit trail and the lockout see (RAPPORT_TRUSTED_PROXIES), so
        # allauth's per-address limits and the Sessions page do not see every visitor as the proxy.
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address")
        return address
