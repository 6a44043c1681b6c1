from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from rapport.accounts.decorators import signed_in_user
from rapport.accounts.models import STAFF_ROLES


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Where a person lands after signing in: staff in the workspace, clients in the portal."""
    if signed_in_user(request).role in STAFF_ROLES:
        return redirect("workspace:home")
    return redirect("portal:home")
