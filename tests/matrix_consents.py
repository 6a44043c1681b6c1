"""Authorization matrix rows for the practice admin's consent pages (see tests/matrix_declarations.py).

Only a practice admin gets in, and only to their own practice's documents: another practice's
document, or a missing one, is 404 for them. Everyone else on staff, and every client, is turned
away (403) before any lookup. The documents are made by the ``kwargs`` functions, inside each
test's savepoint (the default form, as a new practice gets it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rapport.consents.services import DEFAULT_ITEMS, consent_defaults_create
from tests.matrix_declarations import LOGIN, MISSING_CASE_ID, Check, Outcome, Redirect, expect
from tests.personas import World


def _document_kwargs(which: str) -> Callable[[World], dict[str, Any]]:
    def build(world: World) -> dict[str, Any]:
        if which == "missing":
            return {"document_id": MISSING_CASE_ID}
        practice = world.practice if which == "own" else world.other_practice
        return {"document_id": consent_defaults_create(actor=None, practice=practice).document.public_id}

    return build


def _new_version(world: World) -> dict[str, Any]:
    """A changed version of the default form: one new item at the end."""
    rows = [*({"key": i.key, "text": i.text, "required": "on" if i.required else ""} for i in DEFAULT_ITEMS)]
    rows.append({"key": "research", "text": "Fictional: my anonymous answers may be used in research.", "required": ""})
    data: dict[str, Any] = {
        "content": "Fictional consent text, changed by the authorization matrix.",
        "material": "on",
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": "0",
    }
    for n, row in enumerate(rows):
        data.update({f"items-{n}-{field}": value for field, value in row.items() if value})
    return data


_VARIANTS = (("", "own"), ("other_practice", "other_practice"), ("missing", "missing"))


def _admin_gets(which: str, allowed: Outcome) -> dict[str, Outcome]:
    return expect(anonymous=LOGIN, signed_in=403, admin=allowed if which == "own" else 404)


CONSENT_ROUTES: dict[str, list[Check]] = {
    "workspace:consent_documents": [Check(get=expect(anonymous=LOGIN, signed_in=403, admin=200), post=expect(everyone=405))],
    "workspace:consent_document_detail": [
        Check(label=label, kwargs=_document_kwargs(which), get=_admin_gets(which, 200), post=expect(everyone=405))
        for label, which in _VARIANTS
    ],
    "workspace:consent_version_new": [
        Check(
            label=label,
            kwargs=_document_kwargs(which),
            get=_admin_gets(which, 200),
            post=_admin_gets(which, Redirect("workspace:consent_document_detail", same_args=True)),
            post_data=_new_version,
            post_writers=frozenset({"admin"}) if which == "own" else frozenset(),
        )
        for label, which in _VARIANTS
    ],
}
