"""The scoring core (rapport.measures.scoring): administrations scored per second.

A seeded mix of administrations of the shipped instruments: mostly complete, some with one or two
answers left out (so the PHQ-9 prorating path and the not-scorable path run too), free-text items
filled in on the check-ins. Each repeat scores the whole batch; the figure is the median
administrations/s. The baseline in the same run is a bare sum of the integer answers, the least any
scorer must do, so the ratio shows what validation, bands, cut-offs and risk items cost. No target
exists for this figure in RELIABILITY.md; a practice scores a few hundred administrations a day.
"""

from __future__ import annotations

import random
from typing import Any

from benchmarks.timing import Result, fmt_int, median, rate, timed
from rapport.measures.instruments import Instrument, load
from rapport.measures.scoring import score

SIZE = {False: 50_000, True: 5_000}
RUNS = 5
KEYS = ("phq9", "gad7", "who5", "phq2", "gad2", "alliance", "presession")


def _batch(count: int) -> list[tuple[Instrument, dict[str, Any]]]:
    rng = random.Random(20261126)
    instruments = [load(key) for key in KEYS]
    batch = []
    for _ in range(count):
        instrument = rng.choice(instruments)
        answers: dict[str, Any] = {}
        for item in instrument.items:
            if item.kind == "text":
                answers[item.id] = rng.choice(["", "A fictional note about the week."])
            else:
                answers[item.id] = rng.choice(item.values)
        if rng.random() < 0.1:
            for item in rng.sample(instrument.scored_items, k=min(2, len(instrument.scored_items))):
                answers[item.id] = None
        batch.append((instrument, answers))
    return batch


def _bare_sum(batch: list[tuple[Instrument, dict[str, Any]]]) -> list[int]:
    return [sum(value for value in answers.values() if isinstance(value, int)) for _, answers in batch]


def scoring_throughput(world: Any, *, quick: bool) -> Result:
    """Administrations scored per second by the pure core, against a bare sum of the answers."""
    count = SIZE[quick]
    batch = _batch(count)
    scores = [score(instrument, answers) for instrument, answers in batch]
    # Correctness: every complete administration's total is its plain sum times the multiplier
    # (none of the shipped instruments has a reverse-scored item) and lies inside the range.
    wrong = 0
    for (instrument, answers), result in zip(batch, scores, strict=True):
        complete = all(answers.get(item.id) is not None for item in instrument.scored_items)
        expected = sum(answers[item.id] for item in instrument.scored_items) * instrument.scoring.multiplier if complete else None
        low, high = instrument.total_range
        if complete and result.total != expected:
            wrong += 1
        if result.total is not None and not low <= result.total <= high:
            wrong += 1
    core = [timed(lambda: [score(instrument, answers) for instrument, answers in batch]) for _ in range(RUNS)]
    bare = [timed(lambda: _bare_sum(batch)) for _ in range(RUNS)]
    per_second, bare_per_second = rate(count, median(core)), rate(count, median(bare))
    scorable = sum(1 for result in scores if result.scorable)
    prorated = sum(1 for result in scores if result.prorated)
    return Result(
        name="scoring_throughput",
        size=count,
        median=f"{fmt_int(per_second)} administrations/s",
        baseline=f"{fmt_int(bare_per_second)}/s bare sum",
        ratio=f"{per_second / bare_per_second:.2f}x",
        runs=f"{RUNS} core, {RUNS} bare",
        details=[
            f"{count} administrations over {', '.join(KEYS)}: {scorable} scorable, {prorated} prorated, "
            f"{count - scorable} not scorable; {median(core) / count * 1e6:.1f} us each; "
            f"totals checked against a plain sum: {'all agree' if wrong == 0 else f'{wrong} DISAGREE'}",
        ],
        ok=wrong == 0,
    )
