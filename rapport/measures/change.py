"""Change between two scores: reliable change, clinically significant change, recovery.

Every result says which rule decided it and where the rule comes from (MEASURES.md §4.1: "Always
show which rule fired and its source"). Direction matters: for the PHQ-9 and GAD-7 a lower score is
better; for the WHO-5 a higher one.

Pure: no Django import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rapport.measures.instruments import Instrument

RELIABLE_IMPROVEMENT = "reliable_improvement"
NO_RELIABLE_CHANGE = "no_reliable_change"
RELIABLE_DETERIORATION = "reliable_deterioration"

# Two-tailed p < .05 (Jacobson & Truax 1991).
Z_CRITICAL = 1.96

JACOBSON_TRUAX = (
    "Jacobson NS, Truax P. Clinical significance: a statistical approach to defining meaningful change in "
    "psychotherapy research. J Consult Clin Psychol 1991;59(1):12-19, doi 10.1037/0022-006X.59.1.12"
)


@dataclass(frozen=True)
class Change:
    baseline: float
    current: float
    difference: float  # current - baseline, in the instrument's own direction
    index: float | None  # the Jacobson & Truax RCI; None when a fixed threshold decided
    classification: str  # reliable_improvement, no_reliable_change or reliable_deterioration
    threshold: float  # the smallest raw change that counts as reliable under this rule
    rule: str  # "jacobson_truax" or "fixed_threshold"
    source: str  # the citation of the rule (and of its inputs)
    higher_is_better: bool = False
    sd: float | None = None
    reliability: float | None = None

    @property
    def improved(self) -> bool:
        return self.classification == RELIABLE_IMPROVEMENT


def _classify(moved_reliably: bool, difference: float, higher_is_better: bool) -> str:
    if not moved_reliably:
        return NO_RELIABLE_CHANGE
    better = difference > 0 if higher_is_better else difference < 0
    return RELIABLE_IMPROVEMENT if better else RELIABLE_DETERIORATION


def standard_difference(*, sd: float, reliability: float) -> float:
    """S_diff = SD * sqrt(2) * sqrt(1 - r): the standard error of a difference between two scores (J&T 1991)."""
    if not (math.isfinite(sd) and sd > 0):
        raise ValueError(f"sd must be a positive number, got {sd!r}")
    if not (math.isfinite(reliability) and 0 <= reliability < 1):
        raise ValueError(f"reliability must be at least 0 and below 1, got {reliability!r}")
    return sd * math.sqrt(2) * math.sqrt(1 - reliability)


def reliable_change(
    baseline: float,
    current: float,
    *,
    sd: float,
    reliability: float,
    higher_is_better: bool = False,
    source: str = "",
) -> Change:
    """The Jacobson & Truax (1991) reliable change index and what it means for this direction.

    RCI = (current - baseline) / (SD * sqrt(2) * sqrt(1 - r)); |RCI| > 1.96 means the change is
    unlikely (p < .05) to be measurement error alone (MEASURES.md §1.8). For a scale where higher is
    worse (PHQ-9, GAD-7) a negative RCI beyond -1.96 is reliable improvement; flip for WHO-5.
    ``sd`` is the pre-treatment SD of a reference sample and ``reliability`` the test-retest or
    internal-consistency coefficient; ``source`` should say where both came from, since Blampied
    (2022) asks that these computation choices be stated.
    """
    s_diff = standard_difference(sd=sd, reliability=reliability)
    difference = current - baseline
    index = difference / s_diff
    return Change(
        baseline=baseline,
        current=current,
        difference=difference,
        index=index,
        classification=_classify(abs(index) > Z_CRITICAL, difference, higher_is_better),
        threshold=Z_CRITICAL * s_diff,
        rule="jacobson_truax",
        source=f"{JACOBSON_TRUAX}; {source}" if source else JACOBSON_TRUAX,
        higher_is_better=higher_is_better,
        sd=sd,
        reliability=reliability,
    )


def threshold_change(baseline: float, current: float, *, points: float, higher_is_better: bool = False, source: str) -> Change:
    """Reliable change by a published fixed threshold, e.g. NHS Talking Therapies' 6 points on the PHQ-9.

    A change of at least ``points`` in the better direction is reliable improvement (MEASURES.md §1.7,
    "a fall of ≥6"); the same size in the worse direction is reliable deterioration, which is the
    symmetric reading, not an official definition [U]. The result has no index and says so in ``rule``.
    """
    if not (math.isfinite(points) and points > 0):
        raise ValueError(f"points must be a positive number, got {points!r}")
    difference = current - baseline
    return Change(
        baseline=baseline,
        current=current,
        difference=difference,
        index=None,
        classification=_classify(abs(difference) >= points, difference, higher_is_better),
        threshold=points,
        rule="fixed_threshold",
        source=source,
        higher_is_better=higher_is_better,
    )


def instrument_change(
    instrument: Instrument,
    baseline: float,
    current: float,
    *,
    sd: float | None = None,
    reliability: float | None = None,
    sd_source: str = "",
) -> Change:
    """Change on one instrument, by the rule the instrument publishes when it has one.

    With a fixed reliable-change threshold in its data (PHQ-9 6, GAD-7 4: NHS Talking Therapies) that
    threshold decides, and the result cites it. Otherwise the J&T index needs ``sd`` (e.g. the
    practice's own intake SD) and a reliability, which defaults to the one the instrument stores.
    """
    if instrument.reliable_change is not None:
        rule = instrument.reliable_change
        return threshold_change(
            baseline, current, points=rule.points, higher_is_better=instrument.higher_is_better, source=rule.citation.text
        )
    if reliability is None and instrument.reliability is not None:
        reliability = instrument.reliability.value
        sd_source = f"{sd_source}; reliability {reliability} from {instrument.reliability.citation.text}".lstrip("; ")
    if sd is None or reliability is None:
        raise ValueError(
            f"{instrument.key} publishes no fixed reliable-change threshold: give sd and reliability for the Jacobson & Truax index"
        )
    return reliable_change(
        baseline, current, sd=sd, reliability=reliability, higher_is_better=instrument.higher_is_better, source=sd_source
    )


@dataclass(frozen=True)
class Cutoffs:
    """Jacobson & Truax's three cut-offs between the clinical and the functional range (MEASURES.md §4.2)."""

    a: float  # two SDs beyond the clinical mean, towards health: leaving the clinical range
    b: float  # two SDs beyond the functional mean, towards illness: entering the functional range [U: which SD]
    c: float  # the SD-weighted midpoint between the two means; the preferred one


def jacobson_truax_cutoffs(
    *, clinical_mean: float, clinical_sd: float, functional_mean: float, functional_sd: float, higher_is_better: bool = False
) -> Cutoffs:
    """Cut-offs a, b and c of Jacobson et al. 1984 and Jacobson & Truax 1991.

    As given in the clinicalsignificance R vignette (MEASURES.md §4.2): a = M_clin - 2 SD_clin,
    b = M_fun + 2 SD_fun (J&T's functional SD; the vignette writes SD_clin, unconfirmed [U]),
    c = (SD_fun M_clin + SD_clin M_fun) / (SD_fun + SD_clin). Signs flip where higher is better.
    Example: M_clin 32, SD 7, M_fun 10, SD 7 gives a 18, b 24, c 21.
    """
    for name, value in (("clinical_sd", clinical_sd), ("functional_sd", functional_sd)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    towards_health = 1 if higher_is_better else -1
    return Cutoffs(
        a=clinical_mean + towards_health * 2 * clinical_sd,
        b=functional_mean - towards_health * 2 * functional_sd,
        c=(functional_sd * clinical_mean + clinical_sd * functional_mean) / (functional_sd + clinical_sd),
    )


def in_clinical_range(score: float, *, cutoff: float, higher_is_better: bool = False) -> bool:
    """At or beyond the cut-off on the ill side counts as the clinical range, as IAPT caseness does ("PHQ-9 ≥10")."""
    return score <= cutoff if higher_is_better else score >= cutoff


CLINICALLY_SIGNIFICANT_IMPROVEMENT = "clinically_significant_improvement"


@dataclass(frozen=True)
class Significance:
    classification: str  # clinically_significant_improvement, or the reliable-change classification
    change: Change
    cutoff: float
    started_in_clinical_range: bool
    ended_in_clinical_range: bool
    source: str


def clinical_significance(change: Change, *, cutoff: float, cutoff_source: str) -> Significance:
    """Clinically significant change: from the clinical into the functional range *and* reliable (MEASURES.md §4.2, J&T 1991).

    Anything else keeps the reliable-change classification, so a reliable improvement that stays in
    the clinical range reads ``reliable_improvement``.
    """
    started = in_clinical_range(change.baseline, cutoff=cutoff, higher_is_better=change.higher_is_better)
    ended = in_clinical_range(change.current, cutoff=cutoff, higher_is_better=change.higher_is_better)
    significant = started and not ended and change.classification == RELIABLE_IMPROVEMENT
    return Significance(
        classification=CLINICALLY_SIGNIFICANT_IMPROVEMENT if significant else change.classification,
        change=change,
        cutoff=cutoff,
        started_in_clinical_range=started,
        ended_in_clinical_range=ended,
        source=f"{JACOBSON_TRUAX}; cut-off: {cutoff_source}",
    )


# --- NHS Talking Therapies (IAPT) recovery -----------------------------------------------------------

NOT_A_CASE = "not_a_case"
NOT_COUNTED = "not_counted"
NOT_RECOVERED = "not_recovered"
MOVED_TO_RECOVERY = "moved_to_recovery"
RELIABLE_RECOVERY = "reliable_recovery"

IAPT_SOURCE = (
    "NHS Talking Therapies (IAPT) definitions as applied in the MindStep evaluation, BMC Psychiatry, "
    "doi 10.1186/s12888-018-1987-1, Table 1 [S]; finished treatment = 2 or more treatment sessions, "
    "Health Foundation IAPT technical appendix [C]"
)
# IAPT counts only referrals that finished treatment (Health Foundation IAPT technical appendix).
IAPT_MINIMUM_SESSIONS = 2


@dataclass(frozen=True)
class Measured:
    instrument: Instrument
    baseline: int
    current: int


@dataclass(frozen=True)
class Recovery:
    classification: str  # not_counted, not_a_case, not_recovered, moved_to_recovery or reliable_recovery
    case_at_start: bool
    case_at_end: bool
    changes: tuple[Change, ...]
    reliable_improvement: bool
    source: str = IAPT_SOURCE


def _is_case(instrument: Instrument, total: int) -> bool:
    cutoff = instrument.caseness_cutoff
    if cutoff is None:
        raise ValueError(f"{instrument.key} has no caseness cut-off")
    return cutoff.met(total)


def recovery(measures: Sequence[Measured], *, treatment_sessions: int) -> Recovery:
    """IAPT-style recovery over paired measures such as PHQ-9 and GAD-7 (MEASURES.md §4.3).

    Caseness at start: any measure at or above its caseness cut-off. Moved to recovery: a case at
    start and below caseness on every measure at the end. Reliable recovery: moved to recovery plus
    reliable improvement (a fall of at least the instrument's fixed threshold on at least one
    measure: "and/or"). The extra clause "without reliable deterioration on the other measure" is
    unconfirmed [U] and not applied. Referrals with fewer than two treatment sessions are not counted.
    """
    if not measures:
        raise ValueError("recovery needs at least one measure")
    for measured in measures:
        if measured.instrument.caseness_cutoff is None or measured.instrument.reliable_change is None:
            raise ValueError(f"{measured.instrument.key} has no caseness cut-off and fixed reliable-change threshold")
    changes = tuple(instrument_change(m.instrument, m.baseline, m.current) for m in measures)
    case_at_start = any(_is_case(m.instrument, m.baseline) for m in measures)
    case_at_end = any(_is_case(m.instrument, m.current) for m in measures)
    improved = any(change.improved for change in changes)
    if treatment_sessions < IAPT_MINIMUM_SESSIONS:
        classification = NOT_COUNTED
    elif not case_at_start:
        classification = NOT_A_CASE
    elif case_at_end:
        classification = NOT_RECOVERED
    else:
        classification = RELIABLE_RECOVERY if improved else MOVED_TO_RECOVERY
    return Recovery(
        classification=classification,
        case_at_start=case_at_start,
        case_at_end=case_at_end,
        changes=changes,
        reliable_improvement=improved,
    )
