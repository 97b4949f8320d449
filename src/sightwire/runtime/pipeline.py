"""One camera's processing: stages, then the motion gate, then the analysers.

>>> from sightwire.config.models import CameraConfig, MotionConfig
>>> pipeline = CameraPipeline("belt-1", CameraConfig(source="clip.mp4", motion=MotionConfig()))
>>> # result = pipeline.process(frame)   # a Frame from the camera's source
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from sightwire.config.base import Point
from sightwire.config.models import CameraConfig
from sightwire.core import Detections, Event, Frame
from sightwire.core.frame import MOTION_BOXES
from sightwire.stages import MotionGate, MotionResult, build_stages
from sightwire.stages.redact import Redactor


class Analyser(Protocol):
    """A step that looks at a frame and adds to, or filters, its detections.

    Detectors, trackers, readers (OCR, barcodes) and measurements are analysers;
    they plug in through :class:`CameraPipeline` in the order the config lists them.
    """

    def analyse(self, frame: Frame, detections: Detections) -> Detections: ...


@runtime_checkable
class ZoneReader(Protocol):
    """An analyser that reads inside one of the camera's zones (a barcode or OCR step
    with ``zone:``): it takes the zones again when they are edited."""

    def use_zones(self, zones: Mapping[str, Sequence[Point]]) -> None: ...


@dataclass(slots=True)
class FrameResult:
    """What the pipeline made of one frame."""

    frame: Frame
    motion: MotionResult | None
    detections: Detections
    skipped: bool  # idle: the motion gate saw nothing, so analysers did not run
    events: list[Event] = field(default_factory=list)


class CameraPipeline:
    """Stages (ROI, resize, denoise) → motion gate → analysers, for one camera."""

    def __init__(
        self, camera: str, config: CameraConfig, analysers: Sequence[Analyser] = ()
    ) -> None:
        self.camera = camera
        self.stages = build_stages(config)
        motion = config.motion
        self.motion = MotionGate(motion) if motion is not None and motion.enabled else None
        self.skip_idle = motion is not None and motion.enabled and motion.skip_idle
        self.analysers = list(analysers)
        redactor = Redactor(config.privacy)
        self.redactor = redactor if redactor.active else None

    def use_zones(self, zones: Mapping[str, Sequence[Point]]) -> None:
        """The camera's zones as edited, for the analysers that read inside one; the
        next frame sees them (an analyser swaps its polygon in one assignment)."""
        for analyser in self.analysers:
            if isinstance(analyser, ZoneReader):
                analyser.use_zones(zones)

    def process(self, frame: Frame) -> FrameResult:
        """Run every step on ``frame``; idle frames skip the analysers.

        Privacy redaction comes last, so that readers and detectors see the real
        pixels while no frame leaves the pipeline unredacted, idle ones included.
        """
        for stage in self.stages:
            frame = stage(frame)
        motion = self.motion(frame) if self.motion is not None else None
        detections = Detections.empty()
        skipped = motion is not None and self.skip_idle and not motion.has_motion
        if not skipped:
            # Its own metadata dict, so analysers may note things for later readers
            # (near-threshold objects for the review sampler) without touching others'.
            extra = {MOTION_BOXES: motion.boxes} if motion is not None else {}
            frame = replace(frame, metadata={**frame.metadata, **extra})
            for analyser in self.analysers:
                detections = analyser.analyse(frame, detections)
        if self.redactor is not None:
            frame = self.redactor.redact(frame, detections)
        return FrameResult(frame, motion, detections, skipped=skipped)
