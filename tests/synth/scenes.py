"""The synthetic clips the synth and stages tests share, made once per test session.

Both test packages ask for clips through ``session_clip``, which writes them under
the session's base temporary folder and reuses a clip already made there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest

from sightwire.synth import GroundTruth, write_conveyor, write_lighting, write_static

Image = npt.NDArray[np.uint8]

# 12 s, 3 parcels, one label damaged, one manifest entry wrong.
CONVEYOR: dict[str, Any] = {"seconds": 12.0, "parcels": 3, "seed": 3, "mismatch_share": 0.34}
# 2 minutes at 5 fps with 3 crossings of about 2 s: activity in about 5 % of frames.
STATIC: dict[str, Any] = {"seconds": 120.0, "fps": 5.0, "events": 3, "seed": 1}
# The default lighting scene: a 40 % drop at 12 s, a ramp 26-34 s, people at 18 and 29 s.
LIGHTING: dict[str, Any] = {"seed": 2}
# Lights switched up by 45 % while a person walks through (entering at 11.5 s).
SWITCH_WITH_PERSON: dict[str, Any] = {
    "seconds": 24.0,
    "fps": 5.0,
    "step_gain": 1.45,
    "ramp_s": None,
    "events": [11.5, 18.0],
    "seed": 3,
}

WRITERS: dict[str, Callable[..., GroundTruth]] = {
    "conveyor": write_conveyor,
    "static": write_static,
    "lighting": write_lighting,
}


@dataclass(frozen=True)
class Clip:
    """A written clip and its ground truth."""

    path: Path
    truth: GroundTruth


def session_clip(
    factory: pytest.TempPathFactory, name: str, scene: str, options: dict[str, Any]
) -> Clip:
    """Write scene ``scene`` with ``options`` once per session (as ``name``) and return it."""
    folder = factory.getbasetemp() / "synth-clips"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.mp4"
    if path.exists() and GroundTruth.path_for(path).exists():
        return Clip(path, GroundTruth.load(path))
    return Clip(path, WRITERS[scene](path, **options))


def frames(path: Path, every: int = 1) -> Iterator[tuple[int, Image]]:
    """Decode ``path`` and yield (index, BGR image) of every ``every``-th frame."""
    with av.open(str(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % every == 0:
                yield index, frame.to_ndarray(format="bgr24")
