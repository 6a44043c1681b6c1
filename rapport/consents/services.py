"""Writes for consents: keyword-only, atomic, each audited in the same transaction.

Refusals are ``ValidationError`` with a ``code`` a page can branch on and a message a client can
read; nothing is written when one is raised. Acting for someone else is ``PermissionDenied``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from rapport.accounts.models import Role, User
from rapport.audit.models import Action
from rapport.audit.services import audit_record
from rapport.clients.models import Case, CaseMember, CaseStatus, Client
from rapport.consents import hooks
from rapport.consents.canonical import CanonicalItem, content_hash, normalise_text
from rapport.consents.models import ConsentDocument, ConsentItem, ConsentVersion, ItemDecision, Signature
from rapport.consents.names import typed_name_matches
from rapport.practice.models import Practice, Therapist

logger = logging.getLogger("rapport.consents")

TREATMENT = "treatment"
# Short check-ins before and after sessions; "no" pauses them (rapport.measures: docs/checkins.md).
CHECK_INS = "check_ins"
# Lets the supervisor of the client's therapist see the case, without names (see docs/supervision.md).
SUPERVISION = "supervision"
_OPEN_STATUSES = (CaseStatus.CONSULTATION, CaseStatus.ACTIVE)
_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class ItemSpec:
    """An item as an admin writes it; its position is its place in the list."""

    key: str
    text: str
    required: bool = False


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal recorded, and whom it concerns beyond the client."""

    decision: ItemDecision
    # Therapists of the client's open cases, who must hear of it: an email to each once the
    # withdrawal commits (rapport.consents.notifications), and their home page while it holds.
    therapists_to_tell: list[Therapist] = field(default_factory=list)

    @property
    def therapist_must_be_told(self) -> bool:
        return bool(self.therapists_to_tell)


def _require_practice_admin(actor: User | None, practice: Practice) -> None:
    # actor None is the system (defaults for a new practice, data migrations).
    if actor is not None and not (actor.role == Role.PRACTICE_ADMIN and actor.practice_id == practice.pk):
        raise PermissionDenied("Only an admin of this practice manages its consent documents.")


def _require_may_act_for(actor: User, client: Client) -> None:
    """The client, or the therapist treating them (a signature or withdrawal given in the room)."""
    if client.user_id is not None and actor.pk == client.user_id:
        return
    treats = CaseMember.objects.filter(
        client=client, case__practice_id=client.practice_id, case__primary_therapist__user=actor, case__status__in=_OPEN_STATUSES
    ).exists()
    if actor.role == Role.THERAPIST and actor.practice_id == client.practice_id and treats:
        return
    raise PermissionDenied("Only the client, or their therapist, may record this client's consent.")


def _version_items(version: ConsentVersion) -> list[ConsentItem]:
    return list(version.items.order_by("position"))


def _hash_of(content: str, items: Sequence[ConsentItem]) -> str:
    return content_hash(
        content=content, items=[CanonicalItem(key=i.key, text=i.text, required=i.required, position=i.position) for i in items]
    )


@transaction.atomic
def consent_document_create(*, actor: User | None, practice: Practice, key: str, title: str) -> ConsentDocument:
    """A new, empty consent document; clients see it once a first version is published."""
    _require_practice_admin(actor, practice)
    document = ConsentDocument(practice=practice, key=key.strip(), title=title.strip())
    document.full_clean()
    document.save()
    audit_record(
        actor=actor, action=Action.CREATE, object_type="consents.document", object_id=document.public_id, practice_id=practice.public_id
    )
    return document


@transaction.atomic
def consent_version_publish(
    *, actor: User | None, document: ConsentDocument, content: str, items: Sequence[ItemSpec], material: bool
) -> ConsentVersion:
    """Publish the next version of a document; earlier versions stay as they were, as history.

    ``material`` says whether clients who signed an earlier version must sign again. A document's
    first version always needs signing, whatever the flag says. Refuses a version identical to the
    current one, since it would ask nothing new of anyone.
    """
    _require_practice_admin(actor, document.practice)
    # Locks the document, so a client signing right now either signs the old version before this
    # commits or is told it is outdated; never a signature against a version that is not the latest.
    document = ConsentDocument.objects.select_for_update().get(pk=document.pk)
    content = normalise_text(content)
    if not content:
        raise ValidationError("A consent version needs its text.", code="empty")
    if not items:
        raise ValidationError("A consent version needs at least one item to agree to.", code="empty")
    specs = [ItemSpec(key=s.key.strip(), text=normalise_text(s.text), required=s.required) for s in items]
    keys = [s.key for s in specs]
    if bad := [k for k in keys if not _KEY_PATTERN.match(k)]:
        raise ValidationError(f"Item keys are lower-case letters, digits and underscores: {', '.join(bad)}.", code="bad_key")
    if len(set(keys)) != len(keys):
        raise ValidationError("Each item key may appear only once in a version.", code="duplicate_key")
    if any(not s.text for s in specs):
        raise ValidationError("Every item needs its text.", code="empty")
    new_hash = content_hash(
        content=content, items=[CanonicalItem(key=s.key, text=s.text, required=s.required, position=n) for n, s in enumerate(specs, 1)]
    )
    latest = document.versions.order_by("-number").first()
    if latest is not None and latest.content_hash == new_hash:
        raise ValidationError("This version is the same as the current one.", code="unchanged")
    version = ConsentVersion.objects.create(
        document=document,
        number=1 if latest is None else latest.number + 1,
        published_at=timezone.now(),
        material=material or latest is None,
        content=content,
        content_hash=new_hash,
    )
    for position, spec in enumerate(specs, start=1):
        ConsentItem.objects.create(version=version, key=spec.key, text=spec.text, required=spec.required, position=position)
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="consents.version",
        object_id=version.public_id,
        practice_id=document.practice.public_id,
        detail={"document": document.key, "number": version.number, "material": version.material, "items": len(specs)},
    )
    return version


@transaction.atomic
def consent_sign(
    *,
    actor: User,
    client: Client,
    version: ConsentVersion,
    typed_name: str,
    choices: Mapping[str, bool],
    case: Case | None = None,
) -> Signature:
    """Record a client's signature of a version, with a decision for every item.

    ``choices`` must name each item of the version exactly once with a plain ``True``/``False``:
    a missing, extra or oddly-typed entry means the form was not the one shown, and is refused
    rather than guessed at. Required items must be granted. The typed name must loosely match the
    client's name (see :mod:`rapport.consents.names`).
    """
    _require_may_act_for(actor, client)
    document = ConsentDocument.objects.select_for_update().select_related("practice").get(pk=version.document_id)
    if document.practice_id != client.practice_id:
        # Worded as "not found": a client has no business learning another practice's documents.
        raise ValidationError("This consent document was not found.", code="wrong_practice")
    if case is not None and not CaseMember.objects.filter(case=case, client=client).exists():
        raise ValidationError("This client is not part of that case.", code="wrong_case")
    # From the database, not the caller's object: what is signed is what is stored.
    version = ConsentVersion.objects.get(pk=version.pk)
    latest_number = document.versions.order_by("-number").values_list("number", flat=True).first()
    if version.number != latest_number:
        raise ValidationError(
            "This consent form has been updated since it was opened. Please read the current version and sign that one.",
            code="outdated",
        )
    items = _version_items(version)
    if _hash_of(version.content, items) != version.content_hash:
        # The stored text no longer matches what was published: never ask anyone to sign it.
        logger.error("consent version %s does not match its hash; signing refused", version.public_id)
        raise ValidationError("This consent form cannot be signed right now. The practice has been told.", code="hash_mismatch")
    item_keys = {item.key for item in items}
    if set(choices) != item_keys or any(not isinstance(value, bool) for value in choices.values()):
        raise ValidationError(
            "The answers sent do not match this consent form. Please reload the page and try again.", code="unknown_items"
        )
    if missing := [item for item in items if item.required and not choices[item.key]]:
        raise ValidationError(
            "These items are needed before therapy can go ahead: " + "; ".join(item.text for item in missing), code="required"
        )
    typed_name = " ".join(typed_name.split())
    if not typed_name_matches(typed_name, full_name=client.full_name, preferred_name=client.preferred_name):
        raise ValidationError("Please type your name as the practice has it, to sign.", code="name_mismatch")

    now = timezone.now()
    before = _standing(client)
    signature = Signature.objects.create(
        version=version, client=client, case=case, signed_by=actor, typed_name=typed_name, signed_at=now, content_hash=version.content_hash
    )
    decisions = ItemDecision.objects.bulk_create(
        ItemDecision(
            client=client, signature=signature, item=item, item_key=item.key, granted=choices[item.key], decided_at=now, decided_by=actor
        )
        for item in items
    )
    audit_record(
        actor=actor,
        action=Action.SIGN,
        object_type="consents.signature",
        object_id=signature.public_id,
        practice_id=document.practice.public_id,
        client_id=client.public_id,
        detail={"document": document.key, "version": version.number, "items": len(items)},
    )
    for decision in decisions:
        hooks.decided(hooks.Decided(decision=decision, before=before.get(decision.item_key)))
    return signature


def _standing(client: Client) -> dict[str, bool]:
    """Each item key the client decided on, mapped to their newest decision (as ``selectors.consent_state``)."""
    return dict(ItemDecision.objects.filter(client=client).order_by("id").values_list("item_key", "granted"))


@transaction.atomic
def consent_withdraw(*, actor: User, client: Client, item_key: str) -> Withdrawal:
    """Withdraw one item the client currently grants; it holds from this commit on, everywhere.

    Withdrawal is never refused for being required: consent can always be withdrawn. Withdrawing
    consent to treatment (or any required item) does not close or delete the case; it returns the
    therapists of the client's open cases, who are emailed once this commits (no client name, nothing
    clinical: see ``rapport.consents.notifications``).
    """
    _require_may_act_for(actor, client)
    # One withdrawal at a time per client, so a double click records one row, not two.
    Client.objects.select_for_update().only("pk").get(pk=client.pk)
    latest = ItemDecision.objects.filter(client=client, item_key=item_key).select_related("item").order_by("-id").first()
    if latest is None:
        raise ValidationError("There is no consent to withdraw for this item: it was never given.", code="not_granted")
    if not latest.granted:
        raise ValidationError("This consent has already been withdrawn.", code="already_withdrawn")
    decision = ItemDecision.objects.create(
        client=client, signature=None, item=latest.item, item_key=item_key, granted=False, decided_at=timezone.now(), decided_by=actor
    )
    therapists: list[Therapist] = []
    if item_key == TREATMENT or latest.item.required:
        therapists = list(
            Therapist.objects.filter(
                cases__members__client=client, cases__practice_id=client.practice_id, cases__status__in=_OPEN_STATUSES
            ).distinct()
        )
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="consents.decision",
        object_id=decision.public_id,
        practice_id=client.practice.public_id,
        client_id=client.public_id,
        detail={"item": item_key, "granted": False, "therapists_to_tell": len(therapists)},
    )
    hooks.decided(hooks.Decided(decision=decision, before=True))
    if therapists:
        client_public_id, decision_pk = client.public_id, decision.pk
        transaction.on_commit(
            lambda: logger.info(
                "client %s withdrew a required consent (%s); %d therapist(s) to tell", client_public_id, item_key, len(therapists)
            )
        )
        transaction.on_commit(lambda: _tell_therapists(decision_pk))
    return Withdrawal(decision=decision, therapists_to_tell=therapists)


@transaction.atomic
def consent_item_decide(*, actor: User, client: Client, item_key: str, granted: bool) -> ItemDecision:
    """Record the client's choice on one optional item outside a signature: saying no, or yes (again).

    This is how a client pauses and resumes check-ins (item ``check_ins``), and how any optional
    item withdrawn earlier is granted again without signing the whole form anew. The choice is
    recorded against the item as the practice words it today: the newest version, among the
    practice's documents, that asks it. Refused, with nothing written: an item no current version
    asks (``not_asked``); a required item (``required``: withdrawing one goes through
    ``consent_withdraw``, which tells the therapist, and granting one is signing the form); a choice
    the client already holds (``unchanged``). A client who never decided may say either.
    """
    _require_may_act_for(actor, client)
    # One decision at a time per client, so a double click records one row, not two.
    Client.objects.select_for_update().only("pk").get(pk=client.pk)
    item = item_asked_now(client, item_key)
    if item is None:
        raise ValidationError("Your practice's consent form does not ask about this.", code="not_asked")
    if item.required:
        raise ValidationError("This item is needed for therapy: it is changed by signing the form or by withdrawing it.", code="required")
    before = _standing(client).get(item_key)
    if before is granted:
        message = "You have already agreed to this." if granted else "You have already said no to this."
        raise ValidationError(message, code="unchanged")
    decision = ItemDecision.objects.create(
        client=client, signature=None, item=item, item_key=item_key, granted=granted, decided_at=timezone.now(), decided_by=actor
    )
    audit_record(
        actor=actor,
        action=Action.CREATE,
        object_type="consents.decision",
        object_id=decision.public_id,
        practice_id=client.practice.public_id,
        client_id=client.public_id,
        detail={"item": item_key, "granted": granted},
    )
    hooks.decided(hooks.Decided(decision=decision, before=before))
    return decision


def item_asked_now(client: Client, item_key: str) -> ConsentItem | None:
    """The item keyed ``item_key`` in the newest version of one of the client's practice's documents, if any asks it."""
    newest: dict[int, ConsentVersion] = {}
    for version in ConsentVersion.objects.filter(document__practice_id=client.practice_id).order_by("document_id", "number"):
        newest[version.document_id] = version
    return ConsentItem.objects.filter(version__in=list(newest.values()), key=item_key).order_by("-version__published_at", "-id").first()


def _tell_therapists(decision_pk: int) -> None:
    # Imported late: the task module needs Huey configured, and services must import without it.
    from rapport.consents.tasks import treatment_withdrawal_notify

    try:
        treatment_withdrawal_notify(decision_pk)
    except Exception:
        # The withdrawal has committed and the therapist's home page lists it; a queue that cannot
        # take the task right now must not turn the client's withdrawal into an error page.
        logger.exception("the email about withdrawal #%s could not be queued", decision_pk)


DEFAULT_DOCUMENT_KEY = "practice-consent"
DEFAULT_DOCUMENT_TITLE = "Consent to therapy, and how we work with you"
DEFAULT_CONTENT = """\
Before we start, we ask what you agree to. Only the first item is needed for therapy to go ahead;
every other item is your choice, and saying no changes nothing about the care you receive.

You can withdraw any item at any time from your portal. It takes effect straight away. Your
choices, and every change to them, stay visible to you and to your therapist."""
DEFAULT_ITEMS: tuple[ItemSpec, ...] = (
    ItemSpec(
        key=TREATMENT,
        required=True,
        text=(
            "I agree to take part in therapy with this practice. I understand what therapy involves, that I can ask "
            "questions at any time, and that I can stop whenever I choose."
        ),
    ),
    ItemSpec(
        key="email_reminders",
        text="Send me appointment reminders by email. The email gives the time of the session, nothing about its content.",
    ),
    ItemSpec(
        key="text_messages",
        text="Send me short text messages about appointments to my mobile phone. Texts never contain anything about therapy itself.",
    ),
    ItemSpec(
        key="online_sessions",
        text=("I agree to have some sessions by secure video. I will join from a private place, and sessions are never recorded."),
    ),
    ItemSpec(
        key=SUPERVISION,
        text=(
            "My therapist may discuss my therapy with their clinical supervisor, without my name or details that "
            "identify me, so that I get the best care they can give."
        ),
    ),
    ItemSpec(
        key=CHECK_INS,
        text=(
            "Send me short check-ins before and after sessions, a few questions about how I am and how therapy is "
            "going, for my therapist and me to look at together. I can pause them at any time."
        ),
    ),
    ItemSpec(
        key="anonymised_reports",
        text=(
            "My questionnaire scores may be counted, without my name, in the practice's reports on how well its "
            "therapy works. No one can tell from a report that I am a client."
        ),
    ),
)


@transaction.atomic
def consent_defaults_create(*, actor: User | None, practice: Practice) -> ConsentVersion:
    """A practice's starting consent document (seven items) and its first version.

    Called when a practice is created (the ``practice_create`` command, the demo seed).
    Idempotent: a practice that already has the default document gets its current version back.
    """
    existing = ConsentDocument.objects.filter(practice=practice, key=DEFAULT_DOCUMENT_KEY).first()
    if existing is not None:
        current = existing.versions.order_by("-number").first()
        if current is not None:
            return current
        document = existing
    else:
        document = consent_document_create(actor=actor, practice=practice, key=DEFAULT_DOCUMENT_KEY, title=DEFAULT_DOCUMENT_TITLE)
    return consent_version_publish(actor=actor, document=document, content=DEFAULT_CONTENT, items=DEFAULT_ITEMS, material=True)
