"""The client's "My data" page: what an export holds, asking for one, its progress, and the download.

Every page works on the signed-in client's own record; a download link that is not theirs is
"not found", and a link of theirs that has expired says so (410) and serves nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import Role
from rapport.core.downloads import private_attachment
from rapport.core.exports import registered
from rapport.core.htmx import render_page_or_fragment
from rapport.portal.me import signed_in_client
from rapport.portal.selectors import export_for_link, exports_of
from rapport.portal.services import LINK_LIFETIME, LinkExpired, export_download, export_request


@require_http_methods(["GET", "HEAD", "POST"])
@role_required([Role.CLIENT])
def my_data(request: HttpRequest) -> HttpResponse:
    user, client = signed_in_client(request)
    if request.method == "POST":
        try:
            export_request(actor=user, request=request)
        except ValidationError as exc:
            messages.info(request, exc.messages[0])
        else:
            messages.success(request, "We are preparing your export. This page shows its progress; it usually takes under a minute.")
        # 303: reloading the page shows the list instead of asking again.
        return HttpResponseRedirect(reverse("portal:my_data"), status=303)
    exports = list(exports_of(client))
    context = {
        "client": client,
        "exports": exports,
        "building": any(export.in_flight for export in exports),
        "sections": registered(),
        "link_days": LINK_LIFETIME.days,
        "now": timezone.now(),
    }
    return render_page_or_fragment(request, "portal/my_data.html", "portal/_my_data_exports.html", context)


@require_safe
@role_required([Role.CLIENT])
def my_data_download(request: HttpRequest, token: str) -> HttpResponse:
    user = signed_in_user(request)
    export = export_for_link(user, token)
    if export is None:
        raise Http404("No such export.")
    try:
        download = export_download(actor=user, export=export, request=request)
    except LinkExpired:
        return render(request, "portal/my_data_expired.html", {"export": export}, status=410)
    return private_attachment(download.content, content_type="application/zip", filename=download.filename)
