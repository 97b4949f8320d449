"""The storeroom behind the static and lighting scenes: a fixed camera on a room with
shelves, sensor noise, actors crossing it and a global light gain per frame."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.synth.actors import Actor, actor_truth
from sightwire.synth.textures import room_texture
from sightwire.synth.truth import (
    VISIBLE_SHARE,
    GroundTruth,
    LightingChange,
    ObjectTruth,
    SceneInfo,
    intervals_from_flags,
    visible_share,
)
from sightwire.synth.video import Mp4Writer, SensorNoise

Gains = npt.NDArray[np.float64]
ROOM_CRF = 26
"""Coarser than the conveyor's: like an IP camera's stream, and 10x smaller with noise."""


def write_room(
    path: str | Path,
    *,
    kind: Literal["static", "lighting"],
    fps: float,
    size: tuple[int, int],
    seed: int,
    noise: float,
    actors: Sequence[Actor],
    gains: Gains,
    changes: Sequence[LightingChange] = (),
) -> GroundTruth:
    """Render ``len(gains)`` frames of the room to ``path``, with ``actors`` drawn and
    each frame's brightness multiplied by its gain; write and return the ground truth."""
    width, height = size
    frames = len(gains)
    rng = np.random.default_rng([seed, 1])
    room = room_texture(rng, height, width)
    sensor = SensorNoise(sigma=noise, size=size, seed=seed)
    with Mp4Writer(path, fps=fps, size=size, crf=ROOM_CRF) as writer:
        for index in range(frames):
            frame = room.copy()
            for actor in actors:
                actor.draw(frame, index)
            gain = float(gains[index])
            if gain != 1.0:
                frame = np.asarray(cv2.convertScaleAbs(frame, alpha=gain), np.uint8)
            sensor.apply(frame)
            writer.write(frame)
    objects = [actor_truth(actor, frames, fps, size) for actor in actors]
    activity = _activity(objects, actors, frames)
    truth = GroundTruth(
        scene=SceneInfo(
            kind=kind,
            width=width,
            height=height,
            fps=fps,
            frames=frames,
            seconds=frames / fps,
            seed=seed,
            gop_frames=writer.gop_frames,
            crf=writer.crf,
            noise_sigma=noise,
        ),
        activity=activity,
        activity_intervals=intervals_from_flags(activity, fps),
        objects=objects,
        lighting_changes=list(changes),
    )
    truth.save(GroundTruth.path_for(path))
    return truth


def _activity(objects: list[ObjectTruth], actors: Sequence[Actor], frames: int) -> list[bool]:
    """Per frame: is some actor at least ``VISIBLE_SHARE`` in view (actors always move)."""
    flags = [False] * frames
    for truth, actor in zip(objects, actors, strict=True):
        for frame, box in truth.boxes.items():
            if visible_share(box, actor.width * actor.height) >= VISIBLE_SHARE:
                flags[frame] = True
    return flags
