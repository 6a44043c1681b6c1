"""The supervision gate: how the case selectors learn whether a case's clients consent to supervision.

Consent lives in ``rapport.consents``, a layer above this one, so the case selectors cannot ask it
directly. Instead consents registers one function here when the app is ready (see
``ConsentsConfig.ready``), and the selectors call it. With nothing registered, nothing passes: a
supervisor sees no case rather than every case, should the registration ever go missing.

The gate takes a queryset of cases and returns the ones whose every client grants supervision now.
Taking a queryset keeps the list (``cases_visible_to``) one query and the single-object check
(``case_get_for_user``) the same rule, answered by the same code.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from rapport.clients.models import Case

SupervisionGate = Callable[[QuerySet[Case]], QuerySet[Case]]

_gate: SupervisionGate | None = None


def register_supervision_gate(gate: SupervisionGate | None) -> None:
    """Install the function that filters cases to those consenting to supervision (None removes it)."""
    global _gate
    _gate = gate


def supervision_consented(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The cases among ``cases`` whose every client consents to supervision now; none without a gate."""
    if _gate is None:
        return cases.none()
    return _gate(cases)
