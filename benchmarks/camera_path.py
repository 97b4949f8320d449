"""CPU per event of the camera's side of the run loop: rules → record, nothing else.

``python -m benchmarks.camera_path [--shape 1x10s] [--events N] [--rounds R]
[--baseline CHECKOUT]`` prints, per shape, the CPU time one camera thread spends per
event: its frame's observations through the rule engine (a CEL condition), then
``EventOutput.record_frame`` (the snapshot JPEG and its pack, the event, delivery and
review rows, group commit), as ``benchmarks.events`` does with
``delivery.own_process``, but with no delivery process: deliveries stay in the outbox.

Throughput on a shared two-core machine swings by a quarter from one minute to the
next; this figure, the least of ``rounds`` runs, moves by a few percent, so it can
show a change of the camera path's cost that throughput hides. With ``--baseline``,
each round measures that checkout of the project (e.g. ``git worktree add
/tmp/base HEAD~1``) and this one alternately, each in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent.parent
SHAPES = ((1, 10, True), (1, 2, True), (1, 2, False))


class _NoDeliveries:
    """Stands in for the delivery process: deliveries stay queued."""

    pid = None

    def __init__(self, *_args: object) -> None:
        pass

    def wake(self) -> None:
        pass

    def close(self, timeout: float = 0.0) -> None:
        pass


def measure(per_frame: int, snapshots: bool, count: int) -> float:
    """CPU seconds per event of one camera recording ``count`` events."""
    from benchmarks import events as bench
    from sightwire.rules import RuleEngine
    from sightwire.runtime import output
    from sightwire.runtime.event_loop import EventLoopThread
    from sightwire.runtime.events import RuleRunner

    loop = EventLoopThread().start()
    with (
        tempfile.TemporaryDirectory() as tmp,
        mock.patch.object(output, "DeliveryProcess", _NoDeliveries),
    ):
        config = bench._config(Path(tmp), port=9, cameras=1, own_process=True)
        recorder = output.EventOutput(config, loop)
        engine = RuleEngine.from_config(config)
        evaluate = RuleRunner(engine, loop).evaluate
        no_snapshot = mock.patch.object(output, "_snapshot", bench._no_snapshot)
        with no_snapshot if not snapshots else contextlib.nullcontext():
            start = time.process_time()
            frames = count // per_frame
            bench._camera(recorder, engine, evaluate, "cam-0", frames, per_frame, bench._record_new)
            spent = time.process_time() - start
        recorder.close()
    loop.stop()
    return spent / (frames * per_frame)


def _run(source: Path, shape: tuple[int, int, bool], count: int) -> float:
    """One measurement in a fresh interpreter: this harness, the package at ``source``."""
    paths = os.pathsep.join([str(source / "src"), str(HERE)])
    _, per_frame, snapshots = shape
    code = "from benchmarks.camera_path import measure; import sys; " + (
        f"print(measure({per_frame}, {snapshots}, {count}), sys.modules['sightwire'].__file__)"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code],
        cwd=HERE,
        env={**os.environ, "PYTHONPATH": paths},
        capture_output=True,
        text=True,
        check=True,
    )
    spent, package = answer.stdout.split()[-2:]
    if not Path(package).is_relative_to(source):  # the editable install won instead
        raise RuntimeError(f"measured {package}, not the checkout at {source}")
    return float(spent)


def run(
    shapes: tuple[tuple[int, int, bool], ...] = SHAPES,
    count: int = 3000,
    rounds: int = 6,
    baseline: Path | None = None,
) -> list[dict[str, object]]:
    """Per shape: least and median µs of CPU an event (and the baseline's, if given)."""
    rows: list[dict[str, object]] = []
    for shape in shapes:
        sides = {"now": HERE} | ({"baseline": baseline} if baseline else {})
        spent: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(rounds):
            for name, source in sides.items():
                spent[name].append(_run(source, shape, count) * 1e6)
        row: dict[str, object] = {"shape": f"1 camera x {shape[1]} events a frame"
                                  + (", snapshots" if shape[2] else ", no snapshots")}  # fmt: skip
        for name, values in spent.items():
            row[f"{name}_min_us"] = round(min(values), 1)
            row[f"{name}_median_us"] = round(statistics.median(values), 1)
        if baseline:
            row["ratio_of_mins"] = round(min(spent["baseline"]) / min(spent["now"]), 3)
        rows.append(row)
    return rows


def main() -> None:
    """Print the figures as JSON."""
    from benchmarks.events import _shape

    parser = argparse.ArgumentParser(prog="python -m benchmarks.camera_path", description=__doc__)
    parser.add_argument("--events", type=int, default=3000, help="events per run")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--shape", action="append", type=_shape, help="1xEVENTS[s], repeatable")
    parser.add_argument("--baseline", type=Path, help="another checkout of the project")
    args = parser.parse_args()
    shapes = tuple(args.shape) if args.shape else SHAPES
    if any(cameras != 1 for cameras, _, _ in shapes):
        parser.error("one camera: --shape 1xEVENTS[s]")
    print(json.dumps(run(shapes, args.events, args.rounds, args.baseline), indent=2))


if __name__ == "__main__":
    main()
