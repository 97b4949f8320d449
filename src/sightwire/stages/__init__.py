"""Frame pre-processing: ROI, resize, denoise, and the motion gate.

Each stage takes a frame and returns a frame (``Stage``); ``build_stages`` makes a
camera's list from its config, in the order ROI → resize → denoise. The motion gate
is separate: it returns a ``MotionResult``, not a frame. Stages that move pixels
record the way back in ``frame.metadata["to_source"]`` (see ``boxes_to_source``).

>>> from sightwire.config.models import CameraConfig
>>> camera = CameraConfig(source="belt.mp4", roi={"crop": (0, 120, 1280, 600)},
...                       resize={"width": 640}, denoise="median")
>>> [type(stage).__name__ for stage in build_stages(camera)]
['Crop', 'Resize', 'Denoise']
>>> for stage in build_stages(camera):  # doctest: +SKIP
...     frame = stage(frame)
"""

from __future__ import annotations

from typing import Protocol

from sightwire.config.models import CameraConfig
from sightwire.core.frame import Frame
from sightwire.stages.denoise import Denoise
from sightwire.stages.geometry import TO_SOURCE, boxes_to_source, source_transform
from sightwire.stages.motion import MotionGate, MotionResult, merge_boxes
from sightwire.stages.resize import Resize
from sightwire.stages.roi import Crop, PolygonMask, crop


class Stage(Protocol):
    """A pre-processing step: a frame in, a frame out."""

    def __call__(self, frame: Frame) -> Frame: ...


def build_stages(camera: CameraConfig) -> list[Stage]:
    """The camera's pre-processing stages in order: ROI polygon mask, ROI crop,
    resize, denoise (only those configured)."""
    stages: list[Stage] = []
    if camera.roi is not None and camera.roi.polygon is not None:
        stages.append(PolygonMask(camera.roi.polygon))
    if camera.roi is not None and camera.roi.crop is not None:
        stages.append(Crop(camera.roi.crop))
    if camera.resize is not None and (camera.resize.width or camera.resize.height):
        stages.append(Resize(width=camera.resize.width, height=camera.resize.height))
    if camera.denoise != "off":
        stages.append(Denoise(camera.denoise))
    return stages


def run_stages(stages: list[Stage], frame: Frame) -> Frame:
    """``frame`` passed through every stage in turn."""
    for stage in stages:
        frame = stage(frame)
    return frame


__all__ = [
    "TO_SOURCE",
    "Crop",
    "Denoise",
    "MotionGate",
    "MotionResult",
    "PolygonMask",
    "Resize",
    "Stage",
    "boxes_to_source",
    "build_stages",
    "crop",
    "merge_boxes",
    "run_stages",
    "source_transform",
]
