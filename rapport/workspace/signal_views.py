"""A case's signals for its therapist: each finding with its evidence, its rule and a next step; acknowledge and resolve.

The page names the case's clients, so it goes through ``named_case_get``: therapist A reads and acts;
therapist B and other practices 404; the practice admin and the supervisor 403 (supervision is
without names, on its own pages); clients never reach the workspace. Reading it is audited as a
read of each client's signals (``insights.selectors.case_signals_read``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES, User
from rapport.clients.models import Case
from rapport.insights.detectors import Severity
from rapport.insights.models import Signal, SignalStatus
from rapport.insights.selectors import case_signals_read, last_detection, signal_get_for_user
from rapport.insights.services import MAX_NOTE, signal_acknowledge, signal_resolve
from rapport.workspace.named_cases import named_case_get, viewer_zone


@dataclass(frozen=True)
class RuleLine:
    name: str
    ours: bool
    parameters: list[tuple[str, str]]
    source: str


@dataclass(frozen=True)
class SignalCard:
    """One signal as the page (and the briefing) shows it: plain words, the numbers, where the rule comes from."""

    signal: Signal
    about: str
    severity: str
    observations: list[tuple[date, str, str]]
    rules: list[RuleLine]
    phrases: list[str]
    next_step: str
    settled_on: date | None

    @property
    def is_open(self) -> bool:
        return self.signal.status != SignalStatus.RESOLVED


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def signal_card(signal: Signal, *, about: str | None = None, with_words: bool = True) -> SignalCard:
    """``about`` replaces the client's name (supervision is without names); without ``with_words``
    the client's quoted phrases are left out, since their own words may name people."""
    evidence = signal.evidence or {}
    return SignalCard(
        signal=signal,
        about=about if about is not None else signal.client.full_name if signal.client is not None else "Both partners",
        severity=Severity(signal.severity).label,
        observations=[(date.fromisoformat(o["on"]), _number(o["value"]), o["label"]) for o in evidence.get("observations", [])],
        rules=[
            RuleLine(
                name=rule["name"],
                ours=bool(rule["design"]),
                parameters=[(str(name), _number(value)) for name, value in rule.get("parameters", [])],
                source=rule["source"],
            )
            for rule in evidence.get("rules", [])
        ],
        phrases=list(evidence.get("phrases", [])) if with_words else [],
        next_step=evidence.get("next_step", ""),
        settled_on=date.fromisoformat(evidence["settled_on"]) if evidence.get("settled_on") else None,
    )


def _page(request: HttpRequest, user: User, case: Case, signals: list[Signal], *, error: str = "", status: int = 200) -> HttpResponse:
    cards = [signal_card(signal) for signal in signals]
    context = {
        "case": case,
        "open_cards": [card for card in cards if card.is_open],
        "resolved_cards": [card for card in cards if not card.is_open],
        "treating": case.primary_therapist.user_id == user.pk,
        "error": error,
        "max_note": MAX_NOTE,
        "checked_at": last_detection(case),
        "zone": viewer_zone(user, case),
    }
    return render(request, "workspace/case_signals.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(STAFF_ROLES)
def case_signals(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    named_case_get(user, case_id)
    case, signals = case_signals_read(user, case_id, request=request)
    if request.method != "POST":
        return _page(request, user, case, signals)
    signal = signal_get_for_user(user, case, request.POST.get("signal", ""))
    action = request.POST.get("form", "")
    try:
        if action == "acknowledge":
            signal_acknowledge(actor=user, signal=signal)
            messages.success(request, "Acknowledged.")
        elif action == "resolve":
            signal_resolve(actor=user, signal=signal, note=request.POST.get("note", ""))
            messages.success(request, "Resolved, with your note.")
        else:
            return _page(request, user, case, signals, error="This page has no such form. Nothing was changed.", status=400)
    except (ValidationError, PermissionDenied) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        return _page(request, user, case, signals, error=f"{message} Nothing was changed.", status=400)
    back = request.POST.get("next", "")
    # Only a path on this site (the briefing the card was on); anything else lands on the signals page.
    if not (back.startswith("/workspace/") and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()})):
        back = reverse("workspace:case_signals", kwargs={"case_id": case.public_id})
    return HttpResponseRedirect(f"{back}#signal-{signal.public_id}", status=303)
