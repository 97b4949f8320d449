"""End-to-end detection throughput, each side timed as a whole process.

Baseline: ``benchmarks.bare_detect`` (PyAV decode + the same ONNX session, one frame
after another). Candidates: ``sightwire run --until-end`` on the same clip and model,
without and with the motion gate. The clip is the conveyor scene at 1280x720, 25 fps,
sampled to 5 fps.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Comparison, compare

SIGHTWIRE = [sys.executable, "-m", "sightwire", "--log-level", "warning"]


def _config(
    folder: Path,
    clip: Path,
    model: Path,
    *,
    motion: bool,
    cameras: int = 1,
    max_batch: int = 8,
    regions: bool = False,
) -> Path:
    lines = [
        "version: 1",
        f"store: {{database: 'sqlite:///{folder}/bench.db', blobs: 'file://{folder}/blobs'}}",
        f"models:\n  parcels: {{path: '{model}', max_batch: {max_batch}}}",
        "cameras:",
    ]
    for i in range(cameras):
        lines += [f"  belt-{i}:", f"    source: '{clip}'", "    fps: 5"]
        if motion:
            lines.append("    motion: {}")
        lines.append(
            f"    analyse: [{{detect: {{model: parcels, regions: {str(regions).lower()}}}}}]"
        )
    path = folder / f"bench-{int(motion)}-{cameras}-{max_batch}-{int(regions)}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _process(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, timeout=600)


def run(folder: Path, clip: Path, model: Path, rounds: int) -> list[Comparison]:
    """Bare loop against ``sightwire run``, plain and motion-gated."""
    bare = [sys.executable, "-m", "benchmarks.bare_detect", str(clip), str(model)]
    frames = int(subprocess.run(bare, check=True, capture_output=True, text=True).stdout)
    results = []
    for motion in (False, True):
        config = _config(folder, clip, model, motion=motion)
        label = "sightwire run" + (" + motion gate" if motion else "")
        comparison = Comparison(
            name="detection end to end, 5 fps of 25 fps 720p",
            baseline="bare PyAV + ONNX loop",
            candidate=label,
            units=frames,
            unit="frames",
            target="ratio >= 1.15",
        )
        results.append(
            compare(
                comparison,
                lambda: _process(*bare),
                lambda c=config: _process(*SIGHTWIRE, "run", str(c), "--until-end", "--json"),
                rounds=rounds,
                warmup=0,
            )
        )
    return results


def batching(folder: Path, clip: Path, model: Path, rounds: int) -> Comparison:
    """Four cameras sharing the model: one frame per call against shared calls."""
    single = _config(folder, clip, model, motion=False, cameras=4, max_batch=1)
    shared = _config(folder, clip, model, motion=False, cameras=4, max_batch=8)
    comparison = Comparison(
        name="4 cameras, one model",
        baseline="max_batch 1",
        candidate="max_batch 8",
        units=4,
        unit="clips",
        target="ratio > 1",
    )
    return compare(
        comparison,
        lambda: _process(*SIGHTWIRE, "run", str(single), "--until-end", "--json"),
        lambda: _process(*SIGHTWIRE, "run", str(shared), "--until-end", "--json"),
        rounds=rounds,
        warmup=0,
    )
