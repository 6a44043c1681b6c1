"""Small timing and formatting helpers shared by the benchmarks (no Django)."""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes. Garbage is collected first so one run doesn't pay for another's."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def quantile(values: Sequence[float], q: float) -> float:
    """Nearest-rank quantile, enough for a p90 over a few hundred batches."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> str:
    return f"min {min(values) * scale:.{digits}f}, max {max(values) * scale:.{digits}f}"


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def fmt_int(value: float) -> str:
    return f"{value:,.0f}"


def progress(message: str) -> None:
    """Progress goes to stderr so the result table on stdout stays clean."""
    print(f"  .. {message}", file=sys.stderr, flush=True)


@dataclass
class Target:
    number: int | str
    text: str
    met: bool
    measured: str


@dataclass
class Result:
    name: str
    size: int
    median: str
    baseline: str = "-"
    ratio: str = "-"
    runs: str = ""
    details: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    ok: bool = True  # False when a correctness check failed (never because of a timing)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
