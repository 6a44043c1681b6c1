"""A case's check-in results for its therapist: charts, tables, reliable change, each check-in's answers, FHIR.

Every page here names the case's clients, so each goes through ``named_case_get``: another
practice's case, a therapist who does not treat it, or a missing one is 404; the practice admin and
the supervisor 403 (supervision is without names, on its own pages). The therapist of a couple's
case sees both partners, side by side: the visibility rules give the case's therapist each
partner's check-ins, and no consent item takes that away.

What is recorded: the results page is one read of the scores per client of the case; a check-in's
page is a read of that check-in's answers, against the client who gave them; the FHIR download is an
export, against its client.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from rapport.accounts.decorators import role_required, signed_in_user
from rapport.accounts.models import STAFF_ROLES
from rapport.clients.selectors import case_members
from rapport.core.downloads import private_attachment
from rapport.measures import instruments
from rapport.measures.case_checkins import answer_lines, case_checkin_get, case_checkins_completed, instrument_name
from rapport.measures.fhir_export import client_fhir_export
from rapport.measures.instruments import UnknownInstrument
from rapport.measures.selectors import administration_answers_read
from rapport.measures.series import case_results_read
from rapport.reports.results import case_results
from rapport.workspace.named_cases import named_case_get, viewer_zone


@dataclass(frozen=True)
class CheckinRow:
    public_id: uuid.UUID
    client_name: str
    instrument_name: str
    timing: str
    submitted_at: datetime
    total: int | None


def _labels(names: list[str]) -> list[str]:
    # A chart needs one label per line; two clients with one name are told apart by their order.
    return [f"{name} ({index})" if names.count(name) > 1 else name for index, name in enumerate(names, start=1)]


@require_safe
@role_required(STAFF_ROLES)
def case_measures(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    user = signed_in_user(request)
    # The read is recorded by case_results_read (as a read of the scores), not twice.
    case = named_case_get(user, case_id)
    results = case_results_read(user=user, case=case, request=request)
    members = list(case_members(case))
    labels = _labels([member.client.full_name for member in members])
    zone = viewer_zone(user, case)
    views = case_results([(label, results[member.client.pk]) for label, member in zip(labels, members, strict=True)], ZoneInfo(zone))
    checkins = [
        CheckinRow(
            public_id=row.public_id,
            client_name=row.client.full_name,
            instrument_name=instrument_name(row.instrument_key),
            timing=row.get_timing_display(),
            submitted_at=row.submitted_at,
            total=row.total,
        )
        for row in case_checkins_completed(case)
        if row.submitted_at is not None
    ]
    context = {"case": case, "members": members, "results": views, "checkins": checkins, "zone": zone}
    return render(request, "workspace/case_measures.html", context)


@require_safe
@role_required(STAFF_ROLES)
def case_checkin(request: HttpRequest, case_id: uuid.UUID, checkin_id: uuid.UUID) -> HttpResponse:
    """One completed check-in's answers, free text included: an audited read of that client's answers."""
    user = signed_in_user(request)
    case = named_case_get(user, case_id)
    administration = case_checkin_get(case, checkin_id)
    answers = administration_answers_read(user=user, administration=administration, request=request)
    try:
        instrument = instruments.load(administration.instrument_key)
    except UnknownInstrument:
        raise Http404("This check-in's questionnaire is no longer installed.") from None
    # Which plan the client rated (only check-ins that rate the plan carry one): the version's
    # page shows its wording as it stood then.
    plan_version = administration.plan_version
    context = {
        "case": case,
        "administration": administration,
        "plan_version": plan_version,
        "plan_version_url": None
        if plan_version is None
        else reverse("workspace:case_plan_version", kwargs={"case_id": case.public_id, "number": plan_version.number}),
        "instrument": instrument,
        "lines": answer_lines(instrument, answers),
        "version_changed": instrument.version != administration.instrument_version,
        "zone": viewer_zone(user, case),
    }
    return render(request, "workspace/case_checkin.html", context)


@require_safe
@role_required(STAFF_ROLES)
def client_fhir(request: HttpRequest, case_id: uuid.UUID, client_id: uuid.UUID) -> HttpResponse:
    """One client's check-ins in this case as a FHIR R4 Bundle (JSON), downloaded; audited as an export."""
    user = signed_in_user(request)
    case = named_case_get(user, case_id)
    member = case_members(case).filter(client__public_id=client_id).first()
    if member is None:
        raise Http404("No such client in this case.")
    bundle = client_fhir_export(user=user, case=case, client=member.client, request=request)
    content = json.dumps(bundle, ensure_ascii=False, indent=2).encode("utf-8")
    # The file name carries the record's id, never the client's name.
    return private_attachment(content, content_type="application/fhir+json", filename=f"check-ins-{member.client.public_id}.fhir.json")
