"""The detectors (rapport.insights) on fictional courses with known ground truth: recall and false alarms.

A seeded generator writes courses of weekly sessions, each an after-session alliance check-in
(0-30, three items 0-10) and a PHQ-9, with noise. Stable courses improve as therapy usually does
and keep a steady alliance. Into others it injects one event at a known session:

- a rupture: the alliance total drops by 7 to 12 points (a quarter to 40% of 0-30) for one session;
- a split: in a couple, one partner's total falls 10 to 15 points below the other's from that session;
- a deterioration: the PHQ-9 climbs 7 to 12 points above the first score and stays there;
- an off-track course: a PHQ-9 that starts at 15 or more and never falls reliably;
- a discordant note: a clearly heavy pre-session note at session 7 or later of a PHQ-9 falling about
  1.5 points a session (so reliably improved by then).

Recall is the share of injected events the matching detector finds at that session (the off-track
course: at all). False alarms are findings of any of these detectors on the stable courses (an
individual course and a couple's, 12 sessions each), per 50 sessions. Targets from Issue 7: recall >= 0.95 per event; <= 1 false alarm per 50 sessions.
The noise levels are our assumptions, stated here so the figures can be read: alliance items
±1 point (SD) around a client's own level, PHQ-9 ±1.5 around its course.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from benchmarks.timing import Result, Target, median, timed
from rapport.insights import detectors as d
from rapport.insights.text import affect

COURSES = {False: 400, True: 60}
SESSIONS = 12
RUNS = 3
START = date(2026, 1, 5)
PHQ9 = d.ChangeRule(points=6, source="NHS Talking Therapies: 6 points on the PHQ-9")

# Fictional notes, written for this benchmark.
HEAVY_NOTES = (
    "Honestly everything is falling apart at home.",
    "I can't cope with work at the moment, it is awful.",
    "Worst week in ages. I feel hopeless and tired of all of it.",
    "I'm at breaking point with the kids and nothing helps.",
    "Everything went wrong again and I feel like a failure.",
)
EVERYDAY_NOTES = (
    "Busy week, but okay.",
    "Had a good chat with my sister on Sunday.",
    "Work was long; the weekend was nice.",
    "I'd like to talk about my mum's visit.",
    "Slept better most nights.",
    "A mixed week, some good days.",
    "",
)


def _day(session: int) -> date:
    return START + timedelta(weeks=session)


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _alliance(rng: random.Random, level: float, drops: dict[int, float]) -> list[d.AllianceCheckin]:
    """A steady alliance around ``level`` (per item, 0-10), with a drop of the total at given sessions."""
    course = []
    for s in range(SESSIONS):
        items = {k: round(_clip(rng.gauss(level, 1.0), 0, 10)) for k in ("goals", "tasks", "bond")}
        drop = drops.get(s, 0.0)
        if drop:
            # Spread the drop over the three items, the way a strained session lowers each a little.
            share = drop / 3
            items = {k: round(_clip(v - share, 0, 10)) for k, v in items.items()}
        course.append(d.AllianceCheckin(on=_day(s), total=float(sum(items.values())), items=items, session=f"s{s}"))
    return course


def _phq9(rng: random.Random, start: float, slope: float, jumps: dict[int, float] | None = None) -> d.OutcomeSeries:
    jumps = jumps or {}
    points = []
    added = 0.0
    for s in range(SESSIONS):
        added = jumps.get(s, added)
        value = start if s == 0 else start + slope * s + added + rng.gauss(0, 1.5)
        points.append(d.Observation(_day(s), round(_clip(value, 0, 27)), "PHQ-9"))
    return d.OutcomeSeries("phq9", "PHQ-9", points, PHQ9, cutoff=10)


def _improving(rng: random.Random) -> d.OutcomeSeries:
    # From 12-20, down about 0.8 a session: a reliable improvement by session 6-8, as most courses do.
    return _phq9(rng, rng.uniform(12, 20), -rng.uniform(0.7, 1.0))


@dataclass
class Tally:
    injected: int = 0
    found: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.injected if self.injected else 1.0


def _notes(rng: random.Random, heavy_at: int | None) -> list[d.WrittenNote]:
    notes = []
    for s in range(SESSIONS):
        text = rng.choice(HEAVY_NOTES) if s == heavy_at else rng.choice(EVERYDAY_NOTES)
        felt = affect(text)
        notes.append(d.WrittenNote(_day(s), felt.compound, felt.phrases, "pre-session note"))
    return notes


def _individual_findings(alliance: list[d.AllianceCheckin], phq9: d.OutcomeSeries, notes: list[d.WrittenNote]) -> list[d.Finding]:
    findings = d.alliance_rupture(alliance, subject="a") + d.reliable_deterioration(phq9, subject="a")
    return findings + d.not_on_track(phq9, subject="a") + d.words_versus_scores(notes, phq9, subject="a")


def _evaluate(count: int, seed: int) -> tuple[dict[str, Tally], int, int, int]:
    rng = random.Random(seed)
    tallies = {kind: Tally() for kind in ("rupture", "split", "deterioration", "not on track", "words")}
    stable_sessions = false_alarms = findings_total = 0
    for _ in range(count):
        level = rng.uniform(7, 9.3)
        at = rng.randrange(5, SESSIONS - 2)
        # Stable: an individual course, and a couple whose partners sit within a point of each other.
        individual = _individual_findings(_alliance(rng, level, {}), _improving(rng), _notes(rng, None))
        couple = d.split_alliance(
            first := _alliance(rng, level, {}), second := _alliance(rng, _clip(level + rng.uniform(-0.3, 0.3), 0, 10), {}), subject="case"
        )
        couple += d.alliance_rupture(first, subject="a") + d.alliance_rupture(second, subject="b")
        stable_sessions += 2 * SESSIONS
        false_alarms += len(individual) + len(couple)
        findings_total += len(individual) + len(couple)

        words_at = max(at, 7)
        checks: list[tuple[str, list[d.Finding], str, date | None]] = [
            ("rupture", d.alliance_rupture(_alliance(rng, level, {at: rng.uniform(7, 12)}), subject="a"), d.Kind.RUPTURE, _day(at)),
            (
                "split",
                d.split_alliance(
                    _alliance(rng, level, {}),
                    _alliance(rng, level, dict.fromkeys(range(at, SESSIONS), rng.uniform(10, 15))),
                    subject="case",
                ),
                d.Kind.SPLIT,
                _day(at),
            ),
            (
                "deterioration",
                d.reliable_deterioration(_phq9(rng, rng.uniform(5, 14), 0.0, {at: rng.uniform(7, 12)}), subject="a"),
                d.Kind.DETERIORATION,
                None,
            ),
            (
                "not on track",
                d.not_on_track(_phq9(rng, rng.uniform(15, 22), rng.uniform(-0.15, 0.1)), subject="a"),
                d.Kind.NOT_ON_TRACK,
                None,
            ),
            (
                "words",
                d.words_versus_scores(_notes(rng, words_at), _phq9(rng, rng.uniform(16, 22), -1.5), subject="a"),
                d.Kind.WORDS,
                _day(words_at),
            ),
        ]
        for name, found, kind, when in checks:
            findings_total += len(found)
            tallies[name].injected += 1
            if any(f.kind == kind and (when is None or f.on == when) for f in found):
                tallies[name].found += 1
    return tallies, stable_sessions, false_alarms, findings_total


def detector_evaluation(world: Any, *, quick: bool) -> Result:
    """Recall on injected events and false alarms on stable courses, and how long the detectors take."""
    count = COURSES[quick]
    tallies, sessions, alarms, findings = _evaluate(count, seed=20261126)
    per_50 = alarms / sessions * 50
    seconds = [timed(lambda: _evaluate(count // 4 or 1, seed=7)) for _ in range(RUNS)]
    worst = min(tallies.values(), key=lambda t: t.recall)
    return Result(
        name="detector_evaluation",
        size=count,
        median=f"recall {worst.recall:.3f} (lowest)",
        baseline=f"{per_50:.2f} false alarms/50 sessions",
        runs=f"{RUNS} timing runs",
        details=[
            ", ".join(f"{name} {t.found}/{t.injected} ({t.recall:.3f})" for name, t in tallies.items()),
            f"stable courses: {alarms} findings over {sessions} sessions ({count} individual and {count} couple courses of {SESSIONS} sessions)",
            f"{findings} findings in all; a quarter of the courses (every detector, notes read by VADER) in a median {median(seconds) * 1000:.0f} ms",
        ],
        targets=[
            Target("I7", "detector recall >= 0.95 on every injected event", worst.recall >= 0.95, f"lowest {worst.recall:.3f}"),
            Target("I7", "<= 1 false alarm per 50 stable sessions", per_50 <= 1.0, f"{per_50:.2f}"),
        ],
    )
