from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Nobody signs up unasked: staff arrive by invitation, clients through their therapist.
        return False

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse("accounts:home")
