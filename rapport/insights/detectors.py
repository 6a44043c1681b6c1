"""Detectors: a client's or a couple's recent data in, findings a therapist can act on out.

Every detector takes plain dated values and returns ``Finding`` objects with their evidence, the
rule that fired (with its parameters and source) and a next step in plain, kind words. None of
them diagnoses or judges; a finding says "this is worth a look" and shows why.

Where the literature gives a rule, its source is cited on the rule. Where it gives no number, the
rule is Rapport's own (``Rule.design`` is True), its parameters are practice settings with the
defaults below, and the screen says so (MEASURES.md §4 marks these "[design]").

Each finding has a ``key`` built from its kind, its subject, its topic and the date that started it, so a task
that runs the detectors again over the same data recognises what it already recorded.

Pure: no Django import. Signatures:

- ``alliance_rupture(checkins, *, subject, settings=RuptureSettings()) -> list[Finding]``
- ``split_alliance(first, second, *, settings=SplitSettings()) -> list[Finding]``
- ``reliable_deterioration(series, *, subject) -> list[Finding]``
- ``not_on_track(series, *, subject, settings=NotOnTrackSettings()) -> list[Finding]``
- ``risk_answers(answers) -> list[Finding]``
- ``disengagement(sessions, pre_checkins, *, subject, settings=DisengagementSettings()) -> list[Finding]``
- ``goal_stagnation(goal, sessions, *, subject, settings=StagnationSettings()) -> list[Finding]``
- ``words_versus_scores(notes, series, *, subject, settings=WordsSettings()) -> list[Finding]``
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import IntEnum

from rapport.measures.change import Change, reliable_change, threshold_change

# ----------------------------------------------------------------------------------------------
# What a finding is
# ----------------------------------------------------------------------------------------------


class Severity(IntEnum):
    """How soon a finding deserves attention; never how ill anyone is."""

    LOW = 1  # worth noticing when there is time
    MEDIUM = 2  # worth raising at the next session
    HIGH = 3  # worth a look before the next session

    @property
    def label(self) -> str:
        return {1: "worth noticing", 2: "worth raising next session", 3: "worth a look before the next session"}[self.value]


class Kind:
    RUPTURE = "alliance_rupture"
    SPLIT = "split_alliance"
    DETERIORATION = "reliable_deterioration"
    NOT_ON_TRACK = "not_on_track"
    RISK = "risk_answer"
    DISENGAGEMENT = "disengagement"
    STAGNATION = "goal_stagnation"
    WORDS = "words_versus_scores"


@dataclass(frozen=True)
class Rule:
    """The rule that fired, as the screen shows it: Rapport's own rules say so, with their parameters."""

    key: str
    name: str
    source: str
    design: bool
    parameters: tuple[tuple[str, float | int | str], ...] = ()


@dataclass(frozen=True)
class Observation:
    """One dated value in the evidence: a score, a rating, a gap."""

    on: date
    value: float
    label: str


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: Severity
    subject: str
    on: date
    summary: str
    evidence: tuple[Observation, ...]
    rules: tuple[Rule, ...]
    next_step: str
    # For words versus scores: the phrases that carried the feeling, quoted as written.
    phrases: tuple[str, ...] = ()
    # When later data went back to where it had been (a rupture repaired, a gap closed).
    settled_on: date | None = None
    # What the finding is about within its subject: the instrument or the goal, so that two
    # instruments (or two goals) of one client on one day make two findings.
    topic: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}:{self.topic}:{self.on.isoformat()}"


def _run_starts(flags: Sequence[bool]) -> list[int]:
    """The index where each run of True begins: one finding per episode, not one per session."""
    return [i for i, flag in enumerate(flags) if flag and (i == 0 or not flags[i - 1])]


# ----------------------------------------------------------------------------------------------
# Alliance rupture (MEASURES.md §4.4)
# ----------------------------------------------------------------------------------------------

RUPTURE_SOURCE = (
    "Rapport rule, after the crisis-repair criteria compared in BMC Med Res Methodol 2012;12:10 "
    "(a looser 1 SD and a stricter 2 SD drop) and Stiles et al. 2004, J Couns Psychol; "
    "rupture as defined by Safran & Muran 2006"
)


@dataclass(frozen=True)
class AllianceCheckin:
    """One after-session alliance check-in of one client: the total and each item's rating."""

    on: date
    total: float
    items: Mapping[str, float]
    session: str = ""


@dataclass(frozen=True)
class RuptureSettings:
    min_history: int = 3
    # "Their own recent baseline": the last few check-ins before this one, not all of therapy.
    baseline_window: int = 6
    possible_sd: float = 1.0
    marked_sd: float = 2.0
    # A flat history has an SD near 0; the floor (a share of the total's range) keeps a one-point
    # wobble from counting as a drop.
    sd_floor_share: float = 0.10
    total_range: float = 30.0
    # However spread out the history, a drop smaller than this many points (a sixth of 0-30) is
    # within the wobble of a steady alliance; without it, any client's noisiest sixth of sessions
    # would fall 1 SD below their mean (benchmarks/bench_detectors.py measures the false alarms).
    min_drop: float = 5.0
    # An item at or below this (0-10 scale) counts as low on its own: below the scale's midpoint.
    low_item: float = 4.0
    repair_window: int = 2


ITEM_NAMES = {"goals": "goals", "tasks": "how you work together", "bond": "the bond"}


def alliance_rupture(checkins: Sequence[AllianceCheckin], *, subject: str, settings: RuptureSettings = RuptureSettings()) -> list[Finding]:
    """A fall of the alliance total against the client's own recent baseline, or a low item.

    With at least ``min_history`` earlier check-ins, a total at least ``possible_sd`` SDs below the
    mean of the last ``baseline_window`` earlier ones is a possible rupture (MEDIUM), at least
    ``marked_sd`` SDs a marked one (HIGH); the SD is that client's own, floored, and the drop must
    also be at least ``min_drop`` points. It is marked
    settled when a check-in within ``repair_window`` sessions returns to the baseline mean. Any
    item at or below ``low_item`` is also a finding (MEDIUM), whatever the history.
    """
    ordered = sorted(checkins, key=lambda c: c.on)
    floor = settings.sd_floor_share * settings.total_range
    findings: list[Finding] = []
    for index, checkin in enumerate(ordered):
        rules: list[Rule] = []
        evidence: list[Observation] = []
        severity: Severity | None = None
        settled_on: date | None = None
        summaries: list[str] = []
        earlier = ordered[max(0, index - settings.baseline_window) : index]
        if len(earlier) >= settings.min_history:
            values = [c.total for c in earlier]
            mean = statistics.fmean(values)
            sd = max(statistics.pstdev(values), floor)
            drop = mean - checkin.total
            drop_in_sd = drop / sd
            if drop >= settings.min_drop and drop_in_sd >= settings.possible_sd:
                severity = Severity.HIGH if drop_in_sd >= settings.marked_sd else Severity.MEDIUM
                rules.append(
                    Rule(
                        key="rupture_drop",
                        name="A drop against the client's own recent check-ins",
                        source=RUPTURE_SOURCE,
                        design=True,
                        parameters=(
                            ("earlier check-ins compared", len(earlier)),
                            ("their mean", round(mean, 1)),
                            ("their spread (SD, floored)", round(sd, 1)),
                            ("drop in SDs", round(drop_in_sd, 1)),
                            ("smallest drop that counts", settings.min_drop),
                            ("possible at", settings.possible_sd),
                            ("marked at", settings.marked_sd),
                        ),
                    )
                )
                evidence.extend(Observation(c.on, c.total, "earlier check-in") for c in earlier)
                evidence.append(Observation(checkin.on, checkin.total, "this check-in"))
                word = "a marked" if severity == Severity.HIGH else "a"
                summaries.append(f"{word} drop from a recent mean of {mean:.1f} to {checkin.total:g}")
                later = ordered[index + 1 : index + 1 + settings.repair_window]
                settled_on = next((c.on for c in later if c.total >= mean), None)
        low = sorted(key for key, value in checkin.items.items() if value <= settings.low_item)
        if low:
            severity = max(severity or Severity.MEDIUM, Severity.MEDIUM)
            rules.append(
                Rule(
                    key="rupture_low_item",
                    name="A low rating on goals, tasks or bond",
                    source="Rapport rule: a rating at or below the low mark on the after-session check-in",
                    design=True,
                    parameters=(("low mark (0-10)", settings.low_item),),
                )
            )
            evidence.extend(Observation(checkin.on, checkin.items[key], f"rating of {ITEM_NAMES.get(key, key)}") for key in low)
            summaries.append("a low rating of " + " and ".join(ITEM_NAMES.get(key, key) for key in low))
        if severity is None:
            continue
        findings.append(
            Finding(
                kind=Kind.RUPTURE,
                severity=severity,
                subject=subject,
                on=checkin.on,
                summary="After-session check-in: " + "; ".join(summaries) + ".",
                evidence=tuple(evidence),
                rules=tuple(rules),
                next_step=(
                    "Consider opening the next session by asking how the last one felt, and saying what you noticed; "
                    "naming a strain together is often where repair starts."
                ),
                settled_on=settled_on,
            )
        )
    return findings


# ----------------------------------------------------------------------------------------------
# Split alliance in a couple (MEASURES.md §4.5)
# ----------------------------------------------------------------------------------------------

SPLIT_SOURCE = (
    "Rapport rule, after the split-alliance literature (Muñiz de la Peña, Friedlander & Escudero 2009; "
    "Knobloch-Fedders, Pinsof & Mann 2004); the gap's trend as in Bartle-Haring et al. 2012, Psychotherapy Research"
)


@dataclass(frozen=True)
class SplitSettings:
    total_range: float = 30.0
    # With a published standard error, the reliable-difference band 1.96·√2·SE; our own check-in has
    # none, so a share of the range (a practice setting) decides.
    standard_error: float | None = None
    # A quarter of the range (7.5 of 30) and 15% (4.5 points): below these, two partners' ordinary
    # session-to-session wobble crosses the line too often (benchmarks/bench_detectors.py).
    gap_share: float = 0.25
    # Opposite moves: each partner moved at least this share of the range since the last shared session.
    move_share: float = 0.15


def split_threshold(settings: SplitSettings) -> tuple[float, str]:
    if settings.standard_error is not None:
        return 1.96 * math.sqrt(2) * settings.standard_error, "1.96 · √2 · SE"
    return settings.gap_share * settings.total_range, f"{settings.gap_share:.0%} of the scale's range"


def split_alliance(
    first: Sequence[AllianceCheckin], second: Sequence[AllianceCheckin], *, subject: str, settings: SplitSettings = SplitSettings()
) -> list[Finding]:
    """Partners' alliance totals on the same session apart by more than the threshold, or moving
    in opposite directions since their last shared session. Sessions are matched by ``session``
    (falling back to the date). The evidence names no partner: it is for the therapist only, and
    no partner ever sees the other's answers.
    """
    threshold, how = split_threshold(settings)
    step = settings.move_share * settings.total_range
    by_session = {(c.session or c.on.isoformat()): c for c in second}
    pairs = sorted(
        ((a, by_session[a.session or a.on.isoformat()]) for a in first if (a.session or a.on.isoformat()) in by_session),
        key=lambda pair: pair[0].on,
    )
    findings: list[Finding] = []
    for index, (a, b) in enumerate(pairs):
        gap = abs(a.total - b.total)
        rules: list[Rule] = []
        severity: Severity | None = None
        summaries: list[str] = []
        if gap > threshold:
            severity = Severity.HIGH if gap > 2 * threshold else Severity.MEDIUM
            rules.append(
                Rule(
                    key="split_gap",
                    name="The partners' check-ins far apart on the same session",
                    source=SPLIT_SOURCE,
                    design=True,
                    parameters=(("gap", gap), ("threshold", round(threshold, 1)), ("threshold from", how)),
                )
            )
            summaries.append(f"the partners' totals were {gap:g} points apart")
        if index > 0:
            before_a, before_b = pairs[index - 1]
            move_a, move_b = a.total - before_a.total, b.total - before_b.total
            if min(abs(move_a), abs(move_b)) >= step and (move_a > 0) != (move_b > 0):
                severity = max(severity or Severity.MEDIUM, Severity.MEDIUM)
                rules.append(
                    Rule(
                        key="split_opposite",
                        name="The partners' check-ins moving in opposite directions",
                        source=SPLIT_SOURCE,
                        design=True,
                        parameters=(("smallest move that counts", round(step, 1)),),
                    )
                )
                summaries.append("one partner's total rose while the other's fell")
        if severity is None:
            continue
        trend = tuple(Observation(x.on, abs(x.total - y.total), "gap between partners") for x, y in pairs[max(0, index - 4) : index + 1])
        findings.append(
            Finding(
                kind=Kind.SPLIT,
                severity=severity,
                subject=subject,
                on=a.on,
                summary="After-session check-ins: " + "; ".join(summaries) + ".",
                evidence=trend,
                rules=tuple(rules),
                next_step=(
                    "Consider checking in with each partner about how the sessions feel to them, so that both feel "
                    "the work is theirs; keep what each said in their own check-in to yourself."
                ),
            )
        )
    return findings


# ----------------------------------------------------------------------------------------------
# Outcome measures: reliable deterioration and not on track (MEASURES.md §4.1, §4.6)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeRule:
    """How an instrument decides reliable change: a published fixed threshold, or Jacobson & Truax."""

    points: float | None = None
    sd: float | None = None
    reliability: float | None = None
    source: str = ""

    def between(self, baseline: float, current: float, *, higher_is_better: bool) -> Change:
        if self.points is not None:
            return threshold_change(baseline, current, points=self.points, higher_is_better=higher_is_better, source=self.source)
        if self.sd is None or self.reliability is None:
            raise ValueError("a change rule needs either fixed points or an SD and a reliability")
        return reliable_change(
            baseline, current, sd=self.sd, reliability=self.reliability, higher_is_better=higher_is_better, source=self.source
        )


@dataclass(frozen=True)
class OutcomeSeries:
    """One outcome measure's totals for one client, first to last; the first is the baseline."""

    instrument: str
    name: str
    points: Sequence[Observation]
    rule: ChangeRule
    higher_is_better: bool = False
    # The clinical cut-off, if the instrument has one: "not on track" asks for improvement only of
    # someone who started above it.
    cutoff: float | None = None

    def ordered(self) -> list[Observation]:
        return sorted(self.points, key=lambda p: p.on)

    def change(self, baseline: float, current: float) -> Change:
        return self.rule.between(baseline, current, higher_is_better=self.higher_is_better)


def _change_rule(change: Change) -> Rule:
    name = "Jacobson & Truax reliable change" if change.rule == "jacobson_truax" else "The instrument's published reliable-change threshold"
    return Rule(
        key=change.rule, name=name, source=change.source, design=False, parameters=(("reliable change", round(change.threshold, 2)),)
    )


def reliable_deterioration(series: OutcomeSeries, *, subject: str) -> list[Finding]:
    """A score reliably worse than the first one (MEASURES.md §4.1): one finding per stretch of
    worse scores, HIGH when the change is at least twice the reliable-change size."""
    ordered = series.ordered()
    if len(ordered) < 2:
        return []
    baseline = ordered[0]
    later = ordered[1:]
    changes = [series.change(baseline.value, p.value) for p in later]
    flags = [c.classification == "reliable_deterioration" for c in changes]
    findings = []
    for start in _run_starts(flags):
        change, point = changes[start], later[start]
        severity = Severity.HIGH if abs(change.difference) >= 2 * change.threshold else Severity.MEDIUM
        findings.append(
            Finding(
                kind=Kind.DETERIORATION,
                severity=severity,
                subject=subject,
                topic=series.instrument,
                on=point.on,
                summary=(
                    f"{series.name}: {point.value:g} against {baseline.value:g} at the start, "
                    f"a change of {abs(change.difference):g} in the worse direction, beyond measurement error."
                ),
                evidence=(Observation(baseline.on, baseline.value, "first score"), Observation(point.on, point.value, "this score")),
                rules=(_change_rule(change),),
                next_step=(
                    "Consider asking what has been happening lately and looking at the plan together; "
                    "things often get harder before they ease, and it helps to know which this is."
                ),
            )
        )
    return findings


@dataclass(frozen=True)
class ExpectedTrack:
    """The score by session number above which a course counts as off the expected track."""

    upper: Mapping[int, float]
    percentile: int
    source: str


@dataclass(frozen=True)
class NotOnTrackSettings:
    expected: ExpectedTrack | None = None
    # Sessions above the expected track in a row before it counts.
    consecutive: int = 2
    # Without an expected track: by this many scores after the first, the last two together have not
    # moved even half a reliable change in the better direction.
    fallback_after: int = 6
    fallback_share: float = 0.5


def not_on_track(series: OutcomeSeries, *, subject: str, settings: NotOnTrackSettings = NotOnTrackSettings()) -> list[Finding]:
    """Progress behind what was expected (MEASURES.md §4.6).

    With an expected track (published or the practice's own), scores worse than its percentile at
    the same session number ``consecutive`` times in a row; without one, after ``fallback_after``
    scores the mean of the last two is not ``fallback_share`` of a reliable change better than the
    first, for someone who started at or above the cut-off. Reliable
    deterioration has its own detector.
    """
    ordered = series.ordered()
    if len(ordered) < 2:
        return []
    baseline = ordered[0]
    expected = settings.expected
    if expected is not None:
        worse = [
            n in expected.upper and (p.value < expected.upper[n] if series.higher_is_better else p.value > expected.upper[n])
            for n, p in enumerate(ordered, start=1)
        ]
        counted = [all(worse[max(0, i - settings.consecutive + 1) : i + 1]) and i + 1 >= settings.consecutive for i in range(len(worse))]
        findings = []
        for start in _run_starts(counted):
            run = ordered[start - settings.consecutive + 1 : start + 1]
            findings.append(
                Finding(
                    kind=Kind.NOT_ON_TRACK,
                    severity=Severity.MEDIUM,
                    subject=subject,
                    topic=series.instrument,
                    on=ordered[start].on,
                    summary=(
                        f"{series.name}: {settings.consecutive} scores in a row above the {expected.percentile}th percentile "
                        "of courses that started alike."
                    ),
                    evidence=tuple(
                        Observation(p.on, p.value, f"session {ordered.index(p) + 1}; track {expected.upper[ordered.index(p) + 1]:g}")
                        for p in run
                    ),
                    rules=(
                        Rule(
                            key="expected_track",
                            name="Scores against an expected track",
                            source=expected.source,
                            design=True,
                            parameters=(("percentile", expected.percentile), ("in a row", settings.consecutive)),
                        ),
                    ),
                    next_step=_NOT_ON_TRACK_STEP,
                )
            )
        return findings
    if series.cutoff is not None and not (baseline.value < series.cutoff if series.higher_is_better else baseline.value >= series.cutoff):
        return []
    later = ordered[1:]
    if len(later) < settings.fallback_after:
        return []
    last_two = later[settings.fallback_after - 2 : settings.fallback_after]
    recent = statistics.fmean(p.value for p in last_two)
    change = series.change(baseline.value, recent)
    better_by = -change.difference if not series.higher_is_better else change.difference
    if better_by >= settings.fallback_share * change.threshold:
        return []
    at = later[settings.fallback_after - 1]
    return [
        Finding(
            kind=Kind.NOT_ON_TRACK,
            severity=Severity.MEDIUM,
            subject=subject,
            topic=series.instrument,
            on=at.on,
            summary=(
                f"{series.name}: after {settings.fallback_after} scores, the last two average {recent:g} against "
                f"{baseline.value:g} at the start, less than half a reliable change."
            ),
            evidence=tuple(
                Observation(p.on, p.value, "first score" if p is baseline else "score") for p in ordered[: settings.fallback_after + 1]
            ),
            rules=(
                Rule(
                    key="little_improvement",
                    name="Little improvement after several scores",
                    source="Rapport rule (MEASURES.md §4.6): used until the practice has an expected track of its own",
                    design=True,
                    parameters=(
                        ("scores after the first", settings.fallback_after),
                        ("reliable change", round(change.threshold, 2)),
                        ("share of it expected by then", settings.fallback_share),
                    ),
                ),
            ),
            next_step=_NOT_ON_TRACK_STEP,
        )
    ]


_NOT_ON_TRACK_STEP = (
    "Consider reviewing the plan with the client: whether the goals still fit, and whether something about the "
    "way you work together could change."
)


# ----------------------------------------------------------------------------------------------
# Risk answers (MEASURES.md §4.9): already raised at once; here they join the list
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskAnswer:
    on: date
    subject: str
    instrument: str
    item: str
    acknowledged: bool
    # The alert (or administration) it came from: two risk answers on one day are two findings.
    topic: str = ""
    # A risk question left unanswered at the final save (docs/checkins.md: treated as unknown risk).
    unanswered: bool = False


def risk_answers(answers: Iterable[RiskAnswer]) -> list[Finding]:
    return [
        Finding(
            kind=Kind.RISK,
            severity=Severity.HIGH,
            subject=answer.subject,
            topic=answer.topic,
            on=answer.on,
            summary=(
                f"{answer.instrument}: a risk question (item {answer.item}) left unanswered."
                if answer.unanswered
                else f"{answer.instrument}: a risk answer on item {answer.item}. The alert shows the answer."
            ),
            evidence=(),
            rules=(
                Rule(
                    key="risk_item",
                    name="Any answer above the lowest on a risk item",
                    source="MEASURES.md §1.4 and §4.9 (PHQ-9 item 9 guidance)",
                    design=False,
                ),
            ),
            next_step=(
                "Follow your practice's risk procedure: reach the client today and ask directly about safety."
                if not answer.acknowledged
                else "Already acknowledged; consider returning to it at the next session."
            ),
        )
        for answer in answers
    ]


# ----------------------------------------------------------------------------------------------
# Disengagement (MEASURES.md §4.8)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionOutcome:
    on: date
    # "attended", "no_show" or "late_cancel"
    outcome: str
    rebooked: bool = False


@dataclass(frozen=True)
class CheckinDue:
    on: date
    done: bool


@dataclass(frozen=True)
class DisengagementSettings:
    missed_checkins: int = 2


def disengagement(
    sessions: Sequence[SessionOutcome],
    pre_checkins: Sequence[CheckinDue],
    *,
    subject: str,
    settings: DisengagementSettings = DisengagementSettings(),
) -> list[Finding]:
    """Pre-session check-ins missed in a row, a session missed without a new one booked, or
    no-shows in a row (MEASURES.md §4.8: no psychometric threshold exists; these are Rapport's)."""
    findings: list[Finding] = []
    checkins = sorted(pre_checkins, key=lambda c: c.on)
    missed = [
        all(not c.done for c in checkins[max(0, i - settings.missed_checkins + 1) : i + 1]) and i + 1 >= settings.missed_checkins
        for i in range(len(checkins))
    ]
    for start in _run_starts(missed):
        run = checkins[start - settings.missed_checkins + 1 : start + 1]
        findings.append(
            _engagement(
                subject,
                checkins[start].on,
                Severity.LOW,
                f"{settings.missed_checkins} pre-session check-ins in a row not answered.",
                tuple(Observation(c.on, 0, "check-in not answered") for c in run),
                "missed_checkins",
                (("in a row", settings.missed_checkins),),
            )
        )
    ordered = sorted(sessions, key=lambda s: s.on)
    for index, session in enumerate(ordered):
        if session.outcome == "attended":
            continue
        in_a_row = index > 0 and ordered[index - 1].outcome == "no_show" and session.outcome == "no_show"
        if not in_a_row and session.rebooked:
            continue
        what = "no-show" if session.outcome == "no_show" else "late cancellation"
        findings.append(
            _engagement(
                subject,
                session.on,
                Severity.MEDIUM if in_a_row else Severity.LOW,
                "Two sessions in a row missed without notice." if in_a_row else f"A {what} with no new session booked.",
                tuple(
                    Observation(s.on, 0, s.outcome.replace("_", " ")) for s in ((ordered[index - 1], session) if in_a_row else (session,))
                ),
                "missed_sessions",
                (),
            )
        )
    return findings


def _engagement(
    subject: str,
    on: date,
    severity: Severity,
    summary: str,
    evidence: tuple[Observation, ...],
    key: str,
    params: tuple[tuple[str, int], ...],
) -> Finding:
    return Finding(
        kind=Kind.DISENGAGEMENT,
        severity=severity,
        subject=subject,
        # Missed check-ins and a missed session on one day are two findings, not one.
        topic=key,
        on=on,
        summary=summary,
        evidence=evidence,
        rules=(
            Rule(
                key=key,
                name="Engagement prompt",
                source="Rapport rule (MEASURES.md §4.8); missed appointments went with poorer recovery in Clark et al., Lancet 2018",
                design=True,
                parameters=params,
            ),
        ),
        next_step="Consider a short, warm message asking how things are and whether the times still suit.",
    )


# ----------------------------------------------------------------------------------------------
# Goal stagnation (MEASURES.md §4.7)
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalHistory:
    """One goal's ratings by one rater, -2..+2."""

    goal: str
    words: str
    ratings: Sequence[Observation]


@dataclass(frozen=True)
class StagnationSettings:
    flat_ratings: int = 3
    min_sessions: int = 3


def goal_stagnation(
    goal: GoalHistory, sessions: Sequence[date], *, subject: str, settings: StagnationSettings = StagnationSettings()
) -> list[Finding]:
    """The same level below the expected outcome for ``flat_ratings`` ratings in a row while at
    least ``min_sessions`` sessions took place over them. At 0 or above the goal is where it was
    expected to be, so a flat line there is not stagnation."""
    ratings = sorted(goal.ratings, key=lambda r: r.on)
    n = settings.flat_ratings
    flags = []
    for i in range(len(ratings)):
        window = ratings[max(0, i - n + 1) : i + 1]
        held = (
            len(window) == n
            and len({r.value for r in window}) == 1
            and window[0].value < 0
            and sum(1 for s in sessions if window[0].on <= s <= window[-1].on) >= settings.min_sessions
        )
        flags.append(held)
    return [
        Finding(
            kind=Kind.STAGNATION,
            severity=Severity.LOW,
            subject=subject,
            topic=goal.goal,
            on=ratings[i].on,
            summary=f"“{goal.words}” has stayed at {ratings[i].value:+g} for {n} ratings.",
            evidence=tuple(ratings[i - n + 1 : i + 1]),
            rules=(
                Rule(
                    key="flat_ratings",
                    name="Goal ratings unchanged while sessions continue",
                    source="Rapport rule; levels as in Kiresuk & Sherman 1968 (MEASURES.md §4.7)",
                    design=True,
                    parameters=(("ratings in a row", n), ("sessions at least", settings.min_sessions)),
                ),
            ),
            next_step="Consider asking whether this goal still matters as worded, or whether a smaller step would help.",
        )
        for i in _run_starts(flags)
    ]


# ----------------------------------------------------------------------------------------------
# Words versus scores
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrittenNote:
    """What the client wrote on one day, with its feeling as ``text.affect`` measured it."""

    on: date
    compound: float
    phrases: tuple[str, ...]
    where: str


@dataclass(frozen=True)
class WordsSettings:
    # VADER's compound runs from -1 to +1; its authors read ±0.05 as the edge of neutral. Only a
    # clearly felt note counts here; 0.4 lets "Everything is falling apart. Work was fine I guess."
    # (-0.42) count while a plain "ok" (+0.30) does not.
    clear: float = 0.4


def words_versus_scores(
    notes: Sequence[WrittenNote], series: OutcomeSeries, *, subject: str, settings: WordsSettings = WordsSettings()
) -> list[Finding]:
    """A clearly negative note while the scores have reliably improved, or a clearly positive one
    while they have reliably worsened, judged against the scores up to the note's day."""
    ordered = series.ordered()
    findings = []
    for note in sorted(notes, key=lambda n: n.on):
        upto = [p for p in ordered if p.on <= note.on]
        if len(upto) < 2 or abs(note.compound) < settings.clear:
            continue
        change = series.change(upto[0].value, upto[-1].value)
        if note.compound <= -settings.clear and change.classification == "reliable_improvement":
            direction, feeling = "improved", "heavy"
        elif note.compound >= settings.clear and change.classification == "reliable_deterioration":
            direction, feeling = "worsened", "hopeful"
        else:
            continue
        findings.append(
            Finding(
                kind=Kind.WORDS,
                severity=Severity.LOW,
                subject=subject,
                topic=series.instrument,
                on=note.on,
                summary=f"The {note.where} reads {feeling} while {series.name} has reliably {direction} ({upto[0].value:g} → {upto[-1].value:g}).",
                evidence=(Observation(upto[0].on, upto[0].value, "first score"), Observation(upto[-1].on, upto[-1].value, "latest score")),
                rules=(
                    Rule(
                        key="words_scores",
                        name="What the client wrote against the scores",
                        source="Rapport rule; feeling of the text by VADER (Hutto & Gilbert 2014, ICWSM)",
                        design=True,
                        parameters=(("clearly felt at |compound| ≥", settings.clear), ("text compound", round(note.compound, 2))),
                    ),
                    _change_rule(change),
                ),
                next_step="Consider asking about what they wrote; the numbers and the words may each be telling part of it.",
                phrases=note.phrases,
            )
        )
    return findings
