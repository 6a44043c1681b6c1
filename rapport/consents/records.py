"""A signature as its record: what was signed, each choice, by whom and when, on screen and as a PDF.

The client's portal and their therapist's case page show the same record; both decide first who
may see the signature (the client their own, the therapist their case's clients') and then call
these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.template.loader import render_to_string

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.consents.models import Signature
from rapport.consents.selectors import SignedItem, signed_items
from rapport.core.pdf import html_to_pdf


@dataclass(frozen=True)
class SignatureRecord:
    signature: Signature
    document_title: str
    version_number: int
    content_hash: str
    items: list[SignedItem]
    typed_name: str
    signed_at: datetime  # in the client's zone
    zone: str
    signed_by: str  # who pressed "sign": the client, or their therapist in the room

    @property
    def filename(self) -> str:
        return f"consent-{self.signature.version.document.key}-v{self.version_number}-{self.signed_at:%Y-%m-%d}.pdf"


def signed_by_label(signature: Signature) -> str:
    signer = signature.signed_by
    if signature.client.user_id is not None and signer.pk == signature.client.user_id:
        return f"{signer.full_name} (the client), in the client portal"
    if signer.role == Role.THERAPIST:
        return f"{signer.full_name} (therapist), recording the client's signature in a session"
    return signer.full_name or "A member of staff"


def signature_record(signature: Signature) -> SignatureRecord:
    zone = signature.client.time_zone or "UTC"
    return SignatureRecord(
        signature=signature,
        document_title=signature.version.document.title,
        version_number=signature.version.number,
        content_hash=signature.content_hash,
        items=signed_items(signature),
        typed_name=signature.typed_name,
        signed_at=signature.signed_at.astimezone(ZoneInfo(zone)),
        zone=zone,
        signed_by=signed_by_label(signature),
    )


def signature_pdf(record: SignatureRecord, *, practice_name: str) -> bytes:
    html = render_to_string("pdf/signature.html", {"record": record, "practice_name": practice_name})
    return html_to_pdf(html)


def signature_pdf_export(*, actor: User, record: SignatureRecord, request: HttpRequest | None = None) -> bytes:
    """The record as a PDF for someone who may see it (the caller decided), audited against the signer:
    a copy of the record is leaving the practice."""
    client = record.signature.client
    pdf = signature_pdf(record, practice_name=client.practice.name)
    audit_record(
        actor=actor,
        action=Action.EXPORT,
        object_type="consents.signature",
        object_id=record.signature.public_id,
        practice_id=client.practice.public_id,
        client_id=client.public_id,
        request=request,
        detail={"format": "pdf"},
    )
    return pdf
