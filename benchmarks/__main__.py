"""Run the benchmarks: ``python -m benchmarks [--only NAME ...] [--rounds N] [--json]``.

Each comparison measures a baseline and Sightwire alternately in this run and prints
their ratio (candidate / baseline throughput; 1.0 = as fast). Suites: decode,
detection, batching, regions, tracking. The detection suites use the project's own
model, ``models/parcels.onnx``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks import decode_sample, detection, regions, tracking
from benchmarks.harness import Comparison
from sightwire.synth import write_conveyor

SUITES = ("decode", "detection", "batching", "regions", "tracking")
MODEL = Path(__file__).resolve().parents[1] / "models" / "parcels.onnx"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", nargs="*", choices=SUITES, default=list(SUITES))
    parser.add_argument("--rounds", type=int, default=5, help="measured rounds per side")
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--json", action="store_true", help="print JSON rows")
    args = parser.parse_args()
    comparisons: list[Comparison] = []
    extra: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = folder / "conveyor.mp4"
        write_conveyor(clip, seconds=20, fps=25, size=(1280, 720), seed=1)
        if "decode" in args.only:
            comparisons += decode_sample.run(clip, args.rounds)
        if {"detection", "batching"} & set(args.only):
            # A minute of video, so that process start-up is a small share of each run.
            long_clip = folder / "conveyor-60s.mp4"
            write_conveyor(long_clip, seconds=60, fps=25, parcels=18, seed=2)
        if "detection" in args.only:
            comparisons += detection.run(folder, long_clip, args.model, args.rounds)
        if "batching" in args.only:
            comparisons.append(detection.batching(folder, long_clip, args.model, args.rounds))
        if "regions" in args.only:
            sparse = folder / "sparse.mp4"
            write_conveyor(sparse, seconds=40, fps=25, parcels=4, seed=3)
            extra.append(regions.run(sparse, args.model))
        if "tracking" in args.only:
            extra.append({"name": "tracking", **tracking.run()})
    if args.json:
        print(
            json.dumps(
                {"comparisons": [c.as_dict() for c in comparisons], "other": extra}, indent=2
            )
        )
        return
    console = Console()
    console.print(_table(comparisons))
    for item in extra:
        console.print_json(json.dumps(item))


def _table(results: list[Comparison]) -> Table:
    table = Table(title="Sightwire benchmarks (ratio = candidate / baseline throughput)")
    for column in (
        "benchmark",
        "baseline",
        "candidate",
        "baseline/s",
        "candidate/s",
        "ratio",
        "cpu ratio",
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
            f"{r.cpu_ratio:.3f}",
            r.target,
        )
    return table


if __name__ == "__main__":
    main()
