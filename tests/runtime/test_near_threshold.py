"""The detect step with review sampling on: it passes on only the objects at its
threshold, and notes those within the band below it in the frame's own metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from sightwire.config.models import CameraConfig
from sightwire.core import Detections, Frame
from sightwire.core.frame import Image
from sightwire.inference.detector import NEAR_THRESHOLD, DetectAnalyser, NearThreshold
from sightwire.inference.regions import RegionDetectAnalyser
from sightwire.runtime.pipeline import CameraPipeline

# (x1, y1, x2, y2, confidence, class): one sure parcel, one near the threshold, one
# far below it, and a near one of a class the step does not want.
OBJECTS = [
    (10, 10, 60, 60, 0.90, 0),
    (80, 10, 130, 60, 0.30, 0),
    (10, 80, 60, 130, 0.05, 0),
    (80, 80, 130, 130, 0.35, 1),
]


class FixedDetector:
    """Reports the same objects in every image (in that image's pixels)."""

    input_size = (320, 320)
    class_names: ClassVar[list[str]] = ["parcel", "person"]

    def detect(self, images: Sequence[Image]) -> list[Detections]:
        rows = np.array(OBJECTS, np.float64)
        found = Detections(
            xyxy=rows[:, :4].astype(np.float32),
            confidence=rows[:, 4].astype(np.float32),
            class_id=rows[:, 5].astype(np.int64),
            data={"class_name": np.array([self.class_names[int(c)] for c in rows[:, 5]])},
        )
        return [found for _ in images]


def _frame(seq: int = 0, metadata: dict[str, object] | None = None) -> Frame:
    image = np.zeros((240, 320, 3), np.uint8)
    return Frame("belt-1", seq, 0.0, seq / 5, image, metadata if metadata is not None else {})


def _near(frame: Frame) -> list[NearThreshold]:
    entries: list[NearThreshold] = frame.metadata.get(NEAR_THRESHOLD, [])
    return entries


def test_only_objects_at_the_threshold_pass_and_near_ones_are_noted() -> None:
    analyser = DetectAnalyser(FixedDetector(), confidence=0.4, classes=["parcel"])
    analyser.keep_near_threshold(0.15, lambda: "parcels@3")
    frame = _frame()
    passed = analyser.analyse(frame, Detections.empty())
    assert passed.confidence.tolist() == [np.float32(0.9)]
    [entry] = _near(frame)
    assert entry.threshold == 0.4 and entry.model == "parcels@3"
    assert entry.detections.confidence.tolist() == [np.float32(0.9), np.float32(0.3)]


def test_without_sampling_nothing_is_noted() -> None:
    analyser = DetectAnalyser(FixedDetector(), confidence=0.4, classes=["parcel"])
    frame = _frame()
    assert len(analyser.analyse(frame, Detections.empty())) == 1
    assert NEAR_THRESHOLD not in frame.metadata


def test_region_detection_notes_near_ones_and_passes_sure_ones() -> None:
    analyser = RegionDetectAnalyser(FixedDetector(), confidence=0.4, classes=["parcel"])
    analyser.keep_near_threshold(0.15, lambda: None)
    frame = _frame()  # no motion boxes recorded: the whole frame is the one region
    passed = analyser.analyse(frame, Detections.empty())
    assert passed.confidence.tolist() == [np.float32(0.9)]
    [entry] = _near(frame)
    assert sorted(entry.detections.confidence.tolist()) == [np.float32(0.3), np.float32(0.9)]


def test_each_frame_gets_its_own_notes() -> None:
    analyser = DetectAnalyser(FixedDetector(), confidence=0.4, classes=["parcel"])
    analyser.keep_near_threshold(0.15, lambda: None)
    pipeline = CameraPipeline("belt-1", CameraConfig(source="x.mp4"), [analyser])
    shared: dict[str, object] = {}  # a source that hands every frame one dict
    first = pipeline.process(_frame(0, shared))
    second = pipeline.process(_frame(1, shared))
    assert len(_near(first.frame)) == 1 and len(_near(second.frame)) == 1
    assert shared == {}
