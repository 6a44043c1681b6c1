"""The client's consent pages: what to sign, what they agreed to, and withdrawing an item.

Every page works on the signed-in client's own record (``client_of``): no page takes a client id,
so one partner of a couple can never reach the other's choices. A version id from another
practice is "not found", like a case that is not yours.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.decorators import role_required
from rapport.accounts.models import Role, User
from rapport.clients.models import Client
from rapport.consents.models import ConsentVersion
from rapport.consents.records import SignatureRecord, signature_pdf_export, signature_record
from rapport.consents.selectors import (
    current_versions,
    decision_history,
    item_standing,
    item_standings,
    latest_version_of,
    needs_consent,
    signature_of,
    signatures_of,
    version_for_client,
)
from rapport.consents.services import TREATMENT, consent_sign, consent_withdraw
from rapport.core.downloads import private_attachment
from rapport.portal.me import signed_in_client

OUTDATED = "This document changed since you opened it: please read the new version and sign that one."


class SignForm(forms.Form):
    typed_name = forms.CharField(
        label="Type your full name to sign",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


def _choices(request: HttpRequest) -> dict[str, bool]:
    """Each item the form showed (``shown``), granted when its box (``granted``) was ticked.

    A ticked key that was never shown is kept as an unknown entry, so the service sees the form
    was not the one it offered and refuses it rather than dropping the tick silently.
    """
    shown = request.POST.getlist("shown")
    granted = set(request.POST.getlist("granted"))
    choices: dict[str, Any] = {key: key in granted for key in shown}
    for key in granted - set(shown):
        choices[key] = None
    return choices


@require_safe
@role_required([Role.CLIENT])
def consents(request: HttpRequest) -> HttpResponse:
    _, client = signed_in_client(request)
    context = {
        "client": client,
        "due": needs_consent(client),
        "current": current_versions(client),
        "standings": item_standings(client),
        "signatures": signatures_of(client),
        "history": decision_history(client),
    }
    return render(request, "portal/consents.html", context)


def _sign_page(
    request: HttpRequest,
    version: ConsentVersion,
    form: SignForm,
    *,
    choices: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    items = list(version.items.all())
    ticked = {key for key, value in (choices or {}).items() if value}
    context = {"version": version, "items": items, "form": form, "ticked": ticked, "error": error}
    return render(request, "portal/consent_sign.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@role_required([Role.CLIENT])
def consent_sign_page(request: HttpRequest, version_id: uuid.UUID) -> HttpResponse:
    user, client = signed_in_client(request)
    version = version_for_client(client, version_id)
    if version is None:
        raise Http404("No such consent document.")
    latest = latest_version_of(version.document)
    if request.method != "POST":
        if latest.pk != version.pk:
            # An old link (an email, a bookmark): show what is asked today, never the old text.
            return _sign_page(request, latest, SignForm(), error=OUTDATED)
        return _sign_page(request, version, SignForm())

    form = SignForm(request.POST)
    choices = _choices(request)
    if not form.is_valid():
        return _sign_page(request, version, form, choices=choices, status=400)
    try:
        signature = consent_sign(actor=user, client=client, version=version, typed_name=form.cleaned_data["typed_name"], choices=choices)
    except ValidationError as exc:
        if exc.code == "outdated":
            return _sign_page(request, latest_version_of(version.document), SignForm(), error=OUTDATED, status=409)
        return _sign_page(request, version, form, choices=choices, error=exc.messages[0], status=400)
    messages.success(
        request,
        f"Signed: {version.document.title}, version {version.number}, as “{signature.typed_name}”. Your choices are shown below.",
    )
    return redirect("portal:consents")


@require_http_methods(["GET", "HEAD", "POST"])
@role_required([Role.CLIENT])
def consent_withdraw_page(request: HttpRequest, item_key: str) -> HttpResponse:
    user, client = signed_in_client(request)
    standing = item_standing(client, item_key)
    if standing is None:
        raise Http404("You never decided on this item.")
    treatment = item_key == TREATMENT or standing.item.required
    if request.method != "POST":
        return render(request, "portal/consent_withdraw.html", {"standing": standing, "treatment": treatment})
    try:
        withdrawal = consent_withdraw(actor=user, client=client, item_key=item_key)
    except ValidationError as exc:
        # A second click, or a tab left open: nothing to do, and saying so is enough.
        messages.info(request, exc.messages[0])
        return redirect("portal:consents")
    if withdrawal.therapist_must_be_told:
        names = ", ".join(t.display_name for t in withdrawal.therapists_to_tell)
        messages.warning(
            request, f"Withdrawn: {standing.item.text} Your therapist ({names}) is told, and sessions continue only after you have talked."
        )
    else:
        messages.success(request, f"Withdrawn, from now on: {standing.item.text}")
    return redirect("portal:consents")


def _my_signature(request: HttpRequest, signature_id: uuid.UUID) -> tuple[User, Client, SignatureRecord]:
    user, client = signed_in_client(request)
    signature = signature_of(client, signature_id)
    if signature is None:
        # Someone else's signature (the other partner's included) is not found, like one that never was.
        raise Http404("No such signature.")
    return user, client, signature_record(signature)


@require_safe
@role_required([Role.CLIENT])
def consent_signature(request: HttpRequest, signature_id: uuid.UUID) -> HttpResponse:
    """One signature shown back to the client: the version, its fingerprint, each choice, the name and time."""
    _, _, record = _my_signature(request, signature_id)
    return render(request, "portal/consent_signature.html", {"record": record})


@require_safe
@role_required([Role.CLIENT])
def consent_signature_pdf(request: HttpRequest, signature_id: uuid.UUID) -> HttpResponse:
    """The same record as a PDF to keep. Each download is audited: a copy of the record left the practice."""
    user, _, record = _my_signature(request, signature_id)
    pdf = signature_pdf_export(actor=user, record=record, request=request)
    return private_attachment(pdf, content_type="application/pdf", filename=record.filename)
