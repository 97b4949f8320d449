"""Run the benchmarks: ``python -m benchmarks [--rounds N] [--json]``.

Prints one row per comparison: baseline and candidate throughput, measured
alternately in this run, and their ratio (candidate / baseline; 1.0 = as fast).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarks import decode_sample
from benchmarks.harness import Comparison
from sightwire.synth import write_conveyor


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per side")
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "conveyor.mp4"
        write_conveyor(clip, seconds=20, fps=25, size=(1280, 720), seed=1)
        results = decode_sample.run(clip, args.rounds)
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    else:
        Console().print(_table(results))


def _table(results: list[Comparison]) -> Table:
    table = Table(title="Sightwire benchmarks (ratio = candidate / baseline throughput)")
    for column in (
        "benchmark",
        "baseline",
        "candidate",
        "baseline/s",
        "candidate/s",
        "ratio",
        "target",
    ):
        table.add_column(column)
    for r in results:
        row = r.as_dict()
        table.add_row(
            r.name,
            r.baseline,
            r.candidate,
            f"{row['baseline_per_s']} {r.unit}",
            f"{row['candidate_per_s']} {r.unit}",
            f"{r.ratio:.3f}",
            r.target,
        )
    return table


if __name__ == "__main__":
    main()
