"""The static scene: a storeroom where little happens, for testing the motion gate.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "room.mp4"
>>> truth = write_static(out, seconds=10, fps=5, size=(320, 180), events=1)
>>> len(truth.activity), len(truth.activity_intervals)
(50, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sightwire.synth.actors import plan_actors
from sightwire.synth.room import write_room
from sightwire.synth.truth import GroundTruth
from sightwire.synth.video import frame_count


def write_static(
    path: str | Path,
    *,
    seconds: float = 120.0,
    fps: float = 10.0,
    size: tuple[int, int] = (1280, 720),
    events: int | Sequence[float] = 3,
    seed: int = 0,
    noise: float = 2.0,
) -> GroundTruth:
    """Write a fixed view of a storeroom with sensor noise (standard deviation ``noise``
    grey levels) to ``path`` (H.264 MP4) and its ground truth beside it (``.json``).

    ``events`` people or carts walk through: a count, spread over the clip by
    ``seed``, or the times in seconds at which each starts to enter. Each crosses the
    picture in about two seconds, so the clip is idle most of the time. Ground truth
    flags every frame with something at least 20 % in view (and always moving).

    >>> truth = write_static("/tmp/room.mp4", events=[5.0, 40.0])  # doctest: +SKIP
    """
    frames = frame_count(seconds, fps)
    rng = np.random.default_rng(seed)
    actors = plan_actors(rng, events=events, frames=frames, fps=fps, size=size)
    return write_room(
        path,
        kind="static",
        fps=fps,
        size=size,
        seed=seed,
        noise=noise,
        actors=actors,
        gains=np.ones(frames),
    )
