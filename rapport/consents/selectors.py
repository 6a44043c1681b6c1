"""Reads of consents: one client's, a therapist's clients', and a practice's documents.

A selector about a client returns that client's rows only: a couple's partners
are two clients, so one partner's choices never show through the other's. Who may look at a
client's consents at all (the client, their therapist) is decided by the page that calls these,
through the case selectors. The last few read a practice's documents for its admin's pages, and
never name a client: how many signed, not who.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404

from rapport.clients.models import Case, CaseMember, CaseStatus, Client
from rapport.consents.models import ConsentDocument, ConsentItem, ConsentVersion, ItemDecision, Signature
from rapport.consents.services import SUPERVISION, TREATMENT
from rapport.practice.models import Practice, Therapist


def consent_state(client: Client) -> dict[str, bool]:
    """Each item key the client has ever decided on, mapped to their newest decision."""
    state: dict[str, bool] = {}
    for key, granted in ItemDecision.objects.filter(client=client).order_by("id").values_list("item_key", "granted"):
        state[key] = granted
    return state


def _newest_first(item_key: str) -> QuerySet[ItemDecision]:
    """Decisions on one item, newest first: a client's first row here is where the item stands.

    The single definition of "now" that every check below shares, row by row or inside a query.
    """
    return ItemDecision.objects.filter(item_key=item_key).order_by("-id")


def consent_granted(client: Client, item_key: str) -> bool:
    """Whether the client grants this item now: the one check other code makes before acting.

    False when the client never decided on the item. A version published since the client signed
    does not change this: what they agreed to holds until they sign again or withdraw.
    """
    granted = _newest_first(item_key).filter(client=client).values_list("granted", flat=True).first()
    return bool(granted)


def granted_now(item_key: str, *, client_field: str = "pk") -> Subquery:
    """``consent_granted`` as a query expression, for lists: True, False, or NULL when never decided.

    ``client_field`` names the outer query's client id (``"pk"`` on clients, ``"client_id"`` on
    case members), so a whole list is checked in one query rather than one query per row.
    """
    return Subquery(_newest_first(item_key).filter(client_id=OuterRef(client_field)).values("granted")[:1])


def clients_granting(item_key: str, clients: QuerySet[Client] | None = None) -> QuerySet[Client]:
    """The clients (of ``clients``, or all) who grant the item now."""
    base = clients if clients is not None else Client.objects.all()
    return base.annotate(item_granted=granted_now(item_key)).filter(item_granted=True)


def cases_where_every_client_grants(cases: QuerySet[Case], item_key: str) -> QuerySet[Case]:
    """The cases among ``cases`` whose every client grants the item now (for a couple: both partners).

    A client who never decided counts as not granting, and a case without clients grants nothing.
    """
    not_granting = (
        CaseMember.objects.filter(case_id=OuterRef("pk"))
        .annotate(item_granted=granted_now(item_key, client_field="client_id"))
        .filter(Q(item_granted=False) | Q(item_granted__isnull=True))
    )
    return cases.filter(Exists(CaseMember.objects.filter(case_id=OuterRef("pk")))).exclude(Exists(not_granting))


def supervision_gate(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The gate the case selectors ask (registered in ``ConsentsConfig.ready``; see ``rapport.clients.access``)."""
    return cases_where_every_client_grants(cases, SUPERVISION)


def granted_since(client: Client, item_key: str) -> datetime | None:
    """When the client's current, unbroken consent to the item began; None when it does not hold now.

    Signing a new version while already agreeing does not restart it: only a withdrawal does.
    """
    since = None
    for granted, decided_at in _newest_first(item_key).filter(client=client).values_list("granted", "decided_at"):
        if not granted:
            break
        since = decided_at
    return since


def needs_consent(client: Client) -> list[ConsentVersion]:
    """The current versions this client should sign, one per document of their practice.

    A document is due when the client never signed any of its versions, or when a material
    version was published after the newest one they signed. A material change counts even when
    a later non-material edit followed it: the client has still not agreed to that change.
    """
    due: list[ConsentVersion] = []
    documents = ConsentDocument.objects.filter(practice_id=client.practice_id).prefetch_related("versions").order_by("title", "id")
    signed_numbers: dict[int, int] = {}
    for document_id, number in Signature.objects.filter(client=client).values_list("version__document_id", "version__number"):
        signed_numbers[document_id] = max(number, signed_numbers.get(document_id, 0))
    for document in documents:
        versions = sorted(document.versions.all(), key=lambda v: v.number)
        if not versions:
            continue
        signed = signed_numbers.get(document.pk)
        if signed is None or any(v.material and v.number > signed for v in versions):
            due.append(versions[-1])
    return due


def current_versions(client: Client) -> list[ConsentVersion]:
    """The newest version of each of the client's practice's documents (what signing again signs)."""
    versions = ConsentVersion.objects.filter(document__practice_id=client.practice_id).select_related("document")
    newest: dict[int, ConsentVersion] = {}
    for version in versions.order_by("document__title", "document_id", "number"):
        newest[version.document_id] = version
    return list(newest.values())


def decision_history(client: Client) -> QuerySet[ItemDecision]:
    """Every choice the client made, newest first, with the item as it was worded then."""
    return (
        ItemDecision.objects.filter(client=client)
        .select_related("item", "item__version", "item__version__document", "signature", "decided_by")
        .order_by("-id")
    )


def signatures_of(client: Client) -> QuerySet[Signature]:
    """The client's signatures, newest first."""
    return Signature.objects.filter(client=client).select_related("version", "version__document", "signed_by").order_by("-id")


def signature_of(client: Client, signature_id: uuid.UUID | str) -> Signature | None:
    """One of this client's own signatures, or None: another client's (the other partner's too) is "not found"."""
    return (
        Signature.objects.filter(client=client, public_id=signature_id)
        .select_related("version", "version__document", "signed_by", "client")
        .first()
    )


def signature_in_case(case: Case, signature_id: uuid.UUID | str) -> Signature | None:
    """A signature by one of the case's clients, or None. Whether the viewer may see the case is the caller's to decide first."""
    return (
        Signature.objects.filter(public_id=signature_id, client__memberships__case=case)
        .select_related("version", "version__document", "signed_by", "client")
        .first()
    )


@dataclass(frozen=True)
class SignedItem:
    """One item of a signed version, worded as signed, with the choice made on it then."""

    key: str
    text: str
    required: bool
    granted: bool


def signed_items(signature: Signature) -> list[SignedItem]:
    """Each item of the signature's version, in the order asked, with the choice the signature recorded."""
    decisions = signature.decisions.select_related("item").order_by("item__position")
    return [SignedItem(key=d.item_key, text=d.item.text, required=d.item.required, granted=d.granted) for d in decisions]


def treatment_withdrawals_for(therapist: Therapist) -> list[ItemDecision]:
    """Clients of the therapist's open cases whose consent to treatment is withdrawn right now.

    Derived from the decisions rather than a flag, so it clears itself when the client consents
    again. The therapist is also emailed once, when it happens (``rapport.consents.notifications``).
    """
    return withdrawals_for(therapist, TREATMENT)


def withdrawals_for(therapist: Therapist, item_key: str) -> list[ItemDecision]:
    """The newest decision of each client of the therapist's open cases who says no to the item right now.

    A client who never decided on the item is not listed: only a "no" they gave.
    """
    return withdrawals_by_item_for(therapist, (item_key,))[item_key]


def withdrawals_by_item_for(therapist: Therapist, item_keys: Sequence[str]) -> dict[str, list[ItemDecision]]:
    """``withdrawals_for`` of several items in one query (the therapist's home page lists two)."""
    clients = Client.objects.filter(
        memberships__case__primary_therapist=therapist,
        memberships__case__practice_id=therapist.practice_id,
        memberships__case__status__in=(CaseStatus.CONSULTATION, CaseStatus.ACTIVE),
    )
    newest: dict[tuple[str, int], ItemDecision] = {}
    for decision in (
        ItemDecision.objects.filter(client__in=clients, item_key__in=list(item_keys)).select_related("client", "decided_by").order_by("id")
    ):
        newest[(decision.item_key, decision.client_id)] = decision
    found: dict[str, list[ItemDecision]] = {key: [] for key in item_keys}
    for (key, _), decision in newest.items():
        if not decision.granted:
            found[key].append(decision)
    return found


def version_for_client(client: Client, version_id: uuid.UUID) -> ConsentVersion | None:
    """A version of one of the client's practice's documents, or None (another practice's, or none)."""
    return (
        ConsentVersion.objects.select_related("document")
        .filter(public_id=version_id, document__practice_id=client.practice_id)
        .prefetch_related("items")
        .first()
    )


def latest_version_of(document: ConsentDocument) -> ConsentVersion:
    """The version a client signs today: the newest one of the document."""
    return document.versions.select_related("document").prefetch_related("items").order_by("-number")[0]


@dataclass(frozen=True)
class ItemStanding:
    """Where one item stands for a client now, with the wording they last decided on."""

    key: str
    item: ConsentItem
    granted: bool
    decision: ItemDecision


def newest_per_item(decisions_newest_first: Iterable[ItemDecision]) -> dict[str, ItemDecision]:
    """Where each item stands: the first decision seen per item key in a newest-first history."""
    newest: dict[str, ItemDecision] = {}
    for decision in decisions_newest_first:
        newest.setdefault(decision.item_key, decision)
    return newest


def item_standings(client: Client) -> list[ItemStanding]:
    """The client's current choice on every item they ever decided, in the order the items are asked."""
    newest = newest_per_item(ItemDecision.objects.filter(client=client).select_related("item", "item__version").order_by("-id"))
    standings = [ItemStanding(key=k, item=d.item, granted=d.granted, decision=d) for k, d in newest.items()]
    return sorted(standings, key=lambda s: (s.item.version.document_id, s.item.position))


def item_standing(client: Client, item_key: str) -> ItemStanding | None:
    """One item's standing for the client, or None when they never decided on it."""
    decision = ItemDecision.objects.filter(client=client, item_key=item_key).select_related("item").order_by("-id").first()
    if decision is None:
        return None
    return ItemStanding(key=item_key, item=decision.item, granted=decision.granted, decision=decision)


def documents_of(practice: Practice) -> Sequence[ConsentDocument]:
    """The practice's consent documents, each with ``current`` (its newest version, or None) and
    ``signature_count`` (signatures of any of its versions): what an admin's list shows."""
    documents = list(
        ConsentDocument.objects.filter(practice=practice).annotate(signature_count=Count("versions__signatures")).order_by("title", "id")
    )
    current: dict[int, ConsentVersion] = {}
    for version in ConsentVersion.objects.filter(document_id__in=[d.pk for d in documents]).order_by("document_id", "number"):
        current[version.document_id] = version
    for document in documents:
        document.current = current.get(document.pk)  # type: ignore[attr-defined]
    return documents


def document_get(practice: Practice, public_id: uuid.UUID | str) -> ConsentDocument:
    """One of the practice's documents; another practice's, or none, is 404 alike."""
    return get_object_or_404(ConsentDocument.objects.select_related("practice"), practice=practice, public_id=public_id)


def versions_of(document: ConsentDocument) -> QuerySet[ConsentVersion]:
    """The document's versions, newest first, with their items and how many signed each."""
    return document.versions.annotate(signature_count=Count("signatures")).prefetch_related("items").order_by("-number")
