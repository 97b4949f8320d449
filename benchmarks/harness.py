"""Measure a candidate against a baseline in one run, as a ratio.

The machines are noisy, so absolute seconds mean little; a ratio of two
measurements taken alternately (A, B, A, B, ...) in the same process does. Each
side's time is the median of its rounds. Both wall-clock and CPU time (this
process's user + system time, all threads, plus that of the child processes it
ran) are recorded: on a busy machine the
CPU-time ratio still measures the work each side does, while wall time also
counts the time other processes took the cores.
"""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Comparison:
    """Baseline and candidate timings of one benchmark, and what they mean."""

    name: str
    baseline: str
    candidate: str
    baseline_s: list[float] = field(default_factory=list)
    candidate_s: list[float] = field(default_factory=list)
    baseline_cpu_s: list[float] = field(default_factory=list)
    candidate_cpu_s: list[float] = field(default_factory=list)
    units: int = 1  # work items per round (frames, events), for throughput
    unit: str = "item"
    target: str = ""

    @property
    def ratio(self) -> float:
        """Candidate throughput as a share of the baseline's (1.0 = as fast)."""
        return statistics.median(self.baseline_s) / statistics.median(self.candidate_s)

    @property
    def cpu_ratio(self) -> float:
        """Baseline CPU time over candidate CPU time (1.0 = the same work)."""
        return statistics.median(self.baseline_cpu_s) / statistics.median(self.candidate_cpu_s)

    def rate(self, times: list[float]) -> float:
        return self.units / statistics.median(times)

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "baseline_per_s": round(self.rate(self.baseline_s), 1),
            "candidate_per_s": round(self.rate(self.candidate_s), 1),
            "unit": self.unit,
            "ratio": round(self.ratio, 3),
            "cpu_ratio": round(self.cpu_ratio, 3),
            "rounds": len(self.baseline_s),
            "target": self.target,
        }


def compare(
    comparison: Comparison,
    baseline: Callable[[], object],
    candidate: Callable[[], object],
    rounds: int = 5,
    warmup: int = 1,
) -> Comparison:
    """Run ``baseline`` and ``candidate`` alternately; record each round's seconds."""
    for _ in range(warmup):
        baseline()
        candidate()
    for i in range(rounds):
        # Alternate who goes first so neither always gets the warmer cache.
        pair = [
            (baseline, comparison.baseline_s, comparison.baseline_cpu_s),
            (candidate, comparison.candidate_s, comparison.candidate_cpu_s),
        ]
        for fn, wall, cpu in pair if i % 2 == 0 else reversed(pair):
            start, start_cpu = time.perf_counter(), _cpu_seconds()
            fn()
            wall.append(time.perf_counter() - start)
            cpu.append(_cpu_seconds() - start_cpu)
    return comparison


def _cpu_seconds() -> float:
    """CPU time of this process and of the child processes it has waited for."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total
