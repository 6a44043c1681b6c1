"""One client's check-ins in one case as a FHIR R4 Bundle: the export behind the workspace download.

``rapport.measures.fhir`` builds the resources from plain values; this module loads the client's
completed check-ins, decrypts their answers (the export carries every answer, free text included),
rebuilds each score from the answers with ``scoring.score`` (the answers and the instrument version
are the source of truth, docs/checkins.md) and records the export in the audit trail, without any
answer in it. Who may ask is decided here too: the case's therapist, for a client of that case.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.models import Case, Client
from rapport.measures import fhir, instruments, scoring
from rapport.measures.instruments import Instrument, UnknownInstrument
from rapport.measures.models import Administration, AdministrationStatus

logger = logging.getLogger("rapport.measures")


def fhir_base() -> str:
    """This installation's FHIR address: its ``SITE_URL`` followed by ``/fhir`` (docs/fhir.md)."""
    return settings.SITE_URL.rstrip("/") + "/fhir"


def patient_reference(client: Client) -> str:
    return f"Patient/{client.public_id}"


def client_fhir_export(*, user: User, case: Case, client: Client, request: HttpRequest | None = None) -> dict[str, Any]:
    """A collection Bundle of the Questionnaires, QuestionnaireResponses and total Observations of
    ``client``'s completed check-ins in ``case``, for the case's therapist; audited as an export.

    The caller fetched ``case`` through the case selector and ``client`` as one of its members.
    A check-in whose instrument file is gone or has a new version since it was answered is left
    out (its answers would be read against questions they were not given to) and counted in the
    audit event, so the gap is visible.
    """
    if not (user.is_authenticated and user.role == Role.THERAPIST and case.primary_therapist.user_id == user.pk):
        raise PermissionDenied("Only the case's therapist exports its clients' check-ins.")
    if not case.members.filter(client=client).exists():
        raise PermissionDenied("This client is not in this case.")
    base = fhir_base()
    subject = patient_reference(client)
    rows = Administration.objects.filter(case=case, client=client, status=AdministrationStatus.COMPLETED, submitted_at__isnull=False)
    questionnaires: dict[str, dict[str, Any]] = {}
    resources: list[dict[str, Any]] = []
    left_out = exported = 0
    for row in rows.order_by("submitted_at", "id"):
        instrument = _instrument_of(row)
        if instrument is None:
            left_out += 1
            continue
        assert row.submitted_at is not None  # filtered above
        answers = dict(row.answers or {})
        questionnaires.setdefault(instrument.key, fhir.questionnaire(instrument, base=base))
        response_id = f"qr-{row.public_id}"
        resources.append(
            fhir.questionnaire_response(
                instrument, answers, base=base, subject_reference=subject, authored=row.submitted_at, response_id=response_id
            )
        )
        total = fhir.observation(
            instrument,
            scoring.score(instrument, answers),
            base=base,
            subject_reference=subject,
            effective=row.submitted_at,
            observation_id=f"obs-{row.public_id}",
            derived_from=f"QuestionnaireResponse/{response_id}",
        )
        if total is not None:
            resources.append(total)
        exported += 1
    audit_record(
        actor=user,
        action=Action.EXPORT,
        object_type="measures.results",
        object_id=client.public_id,
        practice_id=case.practice.public_id,
        client_id=client.public_id,
        request=request,
        detail={"format": "fhir", "case": str(case.public_id), "check_ins": exported, "left_out": left_out},
    )
    return fhir.bundle([*questionnaires.values(), *resources], base=base)


def _instrument_of(row: Administration) -> Instrument | None:
    try:
        instrument = instruments.load(row.instrument_key)
    except UnknownInstrument:
        logger.warning("FHIR export: administration %s names an instrument that is not installed", row.public_id)
        return None
    if instrument.version != row.instrument_version:
        logger.warning("FHIR export: administration %s was answered on another version of its instrument", row.public_id)
        return None
    return instrument
