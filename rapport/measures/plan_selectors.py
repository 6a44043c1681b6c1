"""Reads of a case's measurement plan, for the therapist's plan page. Nothing here writes.

Whether the reader may see the case at all is the case selector's to decide first
(``rapport.clients.selectors``); these take the case the page already has.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapport.clients.models import Case, Client
from rapport.measures import instruments
from rapport.measures.models import PlanEntry, Timing
from rapport.measures.services import DEFAULT_PLANS, check_ins_paused


def plan_current(case: Case) -> set[tuple[str, str]]:
    """The (instrument key, timing) pairs the case's clients are asked now.

    A case whose plan was never needed yet has no rows: it is asked the defaults for its kind,
    which is what ``plan_entries_ensure`` would create. Reading never creates them.
    """
    rows = list(PlanEntry.objects.filter(case=case).values_list("instrument_key", "timing", "active"))
    if not rows:
        return {(key, str(timing)) for key, timing in DEFAULT_PLANS.get(case.kind, ())}
    return {(key, timing) for key, timing, active in rows if active}


@dataclass(frozen=True)
class PlanChoice:
    """One instrument as the plan page offers it."""

    instrument: instruments.Instrument
    before: bool
    after: bool

    @property
    def askable(self) -> bool:
        # Data-collection-only instruments ship without their wording (WHO-5): no client can be asked.
        return not self.instrument.data_collection_only


def plan_choices(current: set[tuple[str, str]]) -> list[PlanChoice]:
    """Every known instrument with whether the plan asks it before and after; those clients can answer first."""
    catalogue = instruments.load_all()
    choices = [
        PlanChoice(instrument=instrument, before=(key, Timing.BEFORE) in current, after=(key, Timing.AFTER) in current)
        for key, instrument in catalogue.items()
    ]
    return sorted(choices, key=lambda c: (not c.askable, c.instrument.authorship != "project", c.instrument.name))


def clients_paused(case: Case) -> list[Client]:
    """The case's clients who paused check-ins: the plan asks them nothing until they resume."""
    return [member.client for member in case.members.select_related("client").order_by("position") if check_ins_paused(member.client)]
