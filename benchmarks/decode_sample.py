"""Decode + sample throughput: Sightwire's file source against a bare PyAV loop.

Both decode every frame of the same 720p H.264 clip with the same decoder settings
(frame threads) and convert only the sampled frames to BGR; the difference is
Sightwire's own work (sampling, frames, the reader thread and hand-off).
"""

from __future__ import annotations

from pathlib import Path

import av

from benchmarks.harness import Comparison, compare
from sightwire.config.models import CameraConfig
from sightwire.sources import AvSource, CameraReader


def bare_pyav(clip: Path, fps: float | None) -> int:
    """What a user would write by hand: decode, keep a frame every 1/fps, convert it."""
    kept = 0
    due = 0.0
    interval = 1.0 / fps if fps else 0.0
    last = None  # a consumer holds each picture until the next, as a pipeline does
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            t = frame.time or 0.0
            if t + 1e-6 >= due:
                last = frame.to_ndarray(format="bgr24")
                due += interval
                kept += 1
    del last
    return kept


def source_only(clip: Path, fps: float | None) -> int:
    """Sightwire's AvSource iterated in the calling thread."""
    source = AvSource("bench", CameraConfig(source=str(clip), fps=fps))
    return sum(1 for _ in source.frames())


def through_reader(clip: Path, fps: float | None) -> int:
    """The run loop's path: AvSource in a CameraReader thread, frames taken by get()."""
    config = CameraConfig(source=str(clip), fps=fps)
    reader = CameraReader(AvSource("bench", config)).start()
    return sum(1 for _ in reader)


def run(clip: Path, rounds: int) -> list[Comparison]:
    """Compare at 5 fps sampled from 25 fps, and with every frame kept."""
    results = []
    for fps, label in ((5.0, "5 fps of 25"), (None, "every frame")):
        expected = bare_pyav(clip, fps)
        for name, candidate in (("AvSource", source_only), ("CameraReader", through_reader)):
            assert candidate(clip, fps) == expected, f"{name} kept a different frame count"
            comparison = Comparison(
                name=f"decode + sample, {label}",
                baseline="bare PyAV loop",
                candidate=name,
                units=expected,
                unit="frames",
                target="ratio >= 0.95",
            )
            results.append(
                compare(
                    comparison,
                    lambda f=fps: bare_pyav(clip, f),
                    lambda f=fps, c=candidate: c(clip, f),
                    rounds=rounds,
                )
            )
    return results
