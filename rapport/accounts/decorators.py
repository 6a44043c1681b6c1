from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from rapport.accounts.models import User

View = Callable[..., HttpResponse]


def role_required(roles: Iterable[str]) -> Callable[[View], View]:
    """Signed-in users with one of ``roles`` pass; anyone else signed in gets 403 (anonymous: login)."""
    allowed = frozenset(roles)

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if getattr(request.user, "role", None) not in allowed:
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorator


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, typed as a Rapport user; only for views already behind a login check."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user
