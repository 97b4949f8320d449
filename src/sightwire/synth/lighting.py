"""The lighting scene: the storeroom where the lights are switched and then drift.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "lights.mp4"
>>> truth = write_lighting(out, seconds=6, fps=5, size=(320, 180), step_at_s=2.0,
...                        ramp_s=None, events=[3.0])
>>> [(c.kind, c.start_frame, c.gain_after) for c in truth.lighting_changes]
[('step', 10, 0.6)]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sightwire.synth.actors import plan_actors
from sightwire.synth.room import Gains, write_room
from sightwire.synth.truth import GroundTruth, LightingChange
from sightwire.synth.video import frame_count


def write_lighting(
    path: str | Path,
    *,
    seconds: float = 40.0,
    fps: float = 10.0,
    size: tuple[int, int] = (1280, 720),
    step_at_s: float = 12.0,
    step_gain: float = 0.6,
    ramp_s: tuple[float, float] | None = (26.0, 34.0),
    ramp_gain: float = 0.85,
    events: int | Sequence[float] = (18.0, 29.0),
    seed: int = 0,
    noise: float = 2.0,
) -> GroundTruth:
    """Write the storeroom with a sudden lighting change to ``path`` (H.264 MP4) and its
    ground truth beside it (``.json``).

    At ``step_at_s`` every pixel's brightness is multiplied by ``step_gain`` at once
    (lights switched: 0.6 is a 40 % drop); during ``ramp_s`` (start, end seconds) the
    gain moves linearly to ``ramp_gain`` (daylight fading in). ``events`` people or carts
    walk through, as in ``write_static``: by default one after the step and one during
    the ramp. Ground truth lists both changes with their frames.

    >>> truth = write_lighting("/tmp/lights.mp4", step_gain=1.45)  # doctest: +SKIP
    """
    frames = frame_count(seconds, fps)
    gains, changes = _gains(frames, fps, step_at_s, step_gain, ramp_s, ramp_gain)
    rng = np.random.default_rng(seed)
    actors = plan_actors(rng, events=events, frames=frames, fps=fps, size=size)
    return write_room(
        path,
        kind="lighting",
        fps=fps,
        size=size,
        seed=seed,
        noise=noise,
        actors=actors,
        gains=gains,
        changes=changes,
    )


def _gains(
    frames: int,
    fps: float,
    step_at_s: float,
    step_gain: float,
    ramp_s: tuple[float, float] | None,
    ramp_gain: float,
) -> tuple[Gains, list[LightingChange]]:
    """Brightness gain of every frame, and the changes that make it."""
    for name, value in (("step_gain", step_gain), ("ramp_gain", ramp_gain)):
        if not 0.1 <= value <= 4.0:
            raise ValueError(f"{name} must be within 0.1..4, got {value}")
    gains = np.ones(frames)
    step = round(step_at_s * fps)
    if not 0 < step < frames:
        raise ValueError(f"step_at_s={step_at_s} is outside the clip ({frames / fps:.1f} s)")
    gains[step:] = step_gain
    changes = [
        LightingChange(
            kind="step",
            start_frame=step,
            end_frame=step,
            start_s=step / fps,
            end_s=step / fps,
            gain_before=1.0,
            gain_after=step_gain,
        )
    ]
    if ramp_s is not None:
        first, last = round(ramp_s[0] * fps), round(ramp_s[1] * fps)
        if not step < first < last < frames:
            raise ValueError(f"ramp_s={ramp_s} must lie after the step and inside the clip")
        before = float(gains[first - 1])
        gains[first : last + 1] = np.linspace(before, ramp_gain, last - first + 2)[1:]
        gains[last + 1 :] = ramp_gain
        changes.append(
            LightingChange(
                kind="ramp",
                start_frame=first,
                end_frame=last,
                start_s=first / fps,
                end_s=last / fps,
                gain_before=before,
                gain_after=ramp_gain,
            )
        )
    return gains, changes
