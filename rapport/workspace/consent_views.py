"""The practice admin's consent pages: the documents, each one's versions, and publishing a new one.

Admins only (403 for everyone else, before any lookup); another practice's document is 404. The
pages never name a client: an admin sees how many signed, not who.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role
from rapport.consents.selectors import document_get, documents_of, versions_of
from rapport.consents.services import consent_version_publish
from rapport.workspace.consent_forms import ConsentItemFormSet, ConsentVersionForm
from rapport.workspace.views import _practice_of


@require_safe
@role_required([Role.PRACTICE_ADMIN])
def consent_documents(request: HttpRequest) -> HttpResponse:
    documents = documents_of(_practice_of(signed_in_user(request)))
    return render(request, "workspace/consent_documents.html", {"documents": documents})


@require_safe
@role_required([Role.PRACTICE_ADMIN])
def consent_document_detail(request: HttpRequest, document_id: uuid.UUID) -> HttpResponse:
    document = document_get(_practice_of(signed_in_user(request)), document_id)
    return render(request, "workspace/consent_document_detail.html", {"document": document, "versions": versions_of(document)})


@require_http_methods(["GET", "POST"])
@role_required([Role.PRACTICE_ADMIN])
def consent_version_new(request: HttpRequest, document_id: uuid.UUID) -> HttpResponse:
    """Publish the next version, starting from the current one.

    A refusal (nothing changed, a bad key, a half-filled row) shows the page again with what was
    typed and a message, and saves nothing.
    """
    actor = signed_in_user(request)
    document = document_get(_practice_of(actor), document_id)
    current = versions_of(document).first()
    status = 200
    if request.method == "POST":
        form = ConsentVersionForm(request.POST)
        items = ConsentItemFormSet(request.POST, prefix="items")
        if form.is_valid() and items.is_valid():
            specs = [spec for row in items.forms if (spec := row.spec()) is not None]
            try:
                version = consent_version_publish(
                    actor=actor,
                    document=document,
                    content=form.cleaned_data["content"],
                    items=specs,
                    material=form.cleaned_data["material"],
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages[0])
            else:
                asked = "Clients who signed before will be asked to sign again." if version.material else "Earlier signatures still stand."
                messages.success(request, f"Version {version.number} published. {asked}")
                # 303: a reload shows the document instead of publishing twice.
                return HttpResponseRedirect(
                    reverse("workspace:consent_document_detail", kwargs={"document_id": document.public_id}), status=303
                )
        status = 400
    else:
        form = ConsentVersionForm(initial={"content": current.content if current else "", "material": True})
        initial = [{"key": i.key, "text": i.text, "required": i.required} for i in current.items.all()] if current else []
        items = ConsentItemFormSet(prefix="items", initial=initial)
    return render(
        request,
        "workspace/consent_version_new.html",
        {"document": document, "current": current, "form": form, "items": items},
        status=status,
    )
