"""Consents in the client's data export: every signature with its choices, and every later change.

Read through this client's own rows only (``signatures_of``, ``decision_history``): a couple's
partners are two clients, so one partner's signatures and choices never reach the other's export.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from rapport.clients.models import Client
from rapport.consents.models import ItemDecision
from rapport.consents.records import signed_by_label
from rapport.consents.selectors import decision_history, item_standings, signatures_of
from rapport.core.exports import ExportRow, ExportSection


def consents_section(client: Client) -> ExportSection:
    zone = ZoneInfo(client.time_zone)
    signatures = list(
        signatures_of(client)
        .select_related("client")
        .prefetch_related(Prefetch("decisions", queryset=ItemDecision.objects.select_related("item").order_by("item__position")))
    )
    history = list(decision_history(client))
    standings = item_standings(client)

    signature_data = [
        {
            "id": str(s.public_id),
            "document": s.version.document.title,
            "document_key": s.version.document.key,
            "version": s.version.number,
            "content_hash": s.content_hash,
            "typed_name": s.typed_name,
            "signed_at": s.signed_at,
            "signed_by": signed_by_label(s),
            "document_text": s.version.content,
            "items": [
                {"key": d.item_key, "text": d.item.text, "required": d.item.required, "granted": d.granted} for d in s.decisions.all()
            ],
        }
        for s in signatures
    ]
    decision_data = [
        {
            "item": d.item_key,
            "text": d.item.text,
            "granted": d.granted,
            "decided_at": d.decided_at,
            "how": "signature" if d.signature_id else "withdrawal",
            "signature": str(d.signature.public_id) if d.signature is not None else None,
            "recorded_by": d.decided_by.full_name,
        }
        for d in history
    ]
    rows = [ExportRow(s.item.text, "You agree" if s.granted else "You do not agree") for s in standings]
    rows += [
        ExportRow(
            f"Signed: {s.version.document.title}, version {s.version.number}",
            f"“{s.typed_name}”, {s.signed_at.astimezone(zone):%d %B %Y, %H:%M %Z}",
            (
                f"Fingerprint (SHA-256): {s.content_hash}",
                f"Recorded by {signed_by_label(s)}",
                *(f"{'Agreed' if d.granted else 'Did not agree'}: {d.item.text}" for d in s.decisions.all()),
            ),
        )
        for s in signatures
    ]
    rows += [
        ExportRow(
            f"{d.decided_at.astimezone(zone):%d %B %Y, %H:%M %Z}",
            ("Agreed" if d.granted else "Did not agree" if d.signature_id else "Withdrew") + f": {d.item.text}",
        )
        for d in history
    ]
    return ExportSection(
        key="consents",
        title="Your consents",
        intro="Where each item stands now, every document you signed with the choices you made, and every choice in order.",
        data={
            "now": [{"item": s.key, "text": s.item.text, "granted": s.granted, "since": s.decision.decided_at} for s in standings],
            "signatures": signature_data,
            "decisions": decision_data,
        },
        rows=rows,
    )
