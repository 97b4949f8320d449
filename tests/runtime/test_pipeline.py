"""A camera's pipeline: motion boxes reach the analysers; no frame leaves unredacted."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data as photos

from sightwire.config.models import CameraConfig, MotionConfig, PrivacyConfig
from sightwire.core import Detections, Frame
from sightwire.core.frame import MOTION_BOXES
from sightwire.inference.faces import face_detector
from sightwire.runtime.pipeline import CameraPipeline


def _astronaut() -> np.ndarray:
    return cv2.cvtColor(photos.astronaut(), cv2.COLOR_RGB2BGR)


class Recorder:
    """An analyser that remembers what it was given."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        self.frames.append(frame)
        return detections


@pytest.mark.parametrize("motion", [False, True])
def test_faces_are_redacted_before_the_frame_leaves(motion: bool) -> None:
    image = _astronaut()
    finder = face_detector()
    assert len(finder.detect(image)) == 1, "the photo should show one face"
    camera = CameraConfig(
        source="upload",
        privacy=PrivacyConfig(faces="blur"),
        motion=MotionConfig() if motion else None,
    )
    recorder = Recorder()
    pipeline = CameraPipeline("door", camera, [recorder])
    results = [pipeline.process(Frame("door", i, 0.0, i / 5, image.copy())) for i in range(3)]
    for result in results:  # with the motion gate on, later frames are idle: still redacted
        assert len(finder.detect(result.frame.image)) == 0
        assert [r["class_name"] for r in result.frame.metadata["redacted"]] == ["face"]
    if motion:  # a still picture: every frame idle, analysers skipped, still redacted
        assert all(r.skipped for r in results) and recorder.frames == []
    else:  # the analysers saw the real pixels
        assert len(recorder.frames) == 3
        assert len(finder.detect(recorder.frames[0].image)) == 1


def test_motion_boxes_reach_the_analysers() -> None:
    recorder = Recorder()
    camera = CameraConfig(source="upload", motion=MotionConfig())
    pipeline = CameraPipeline("yard", camera, [recorder])
    still = np.full((240, 320, 3), 90, np.uint8)
    moved = still.copy()
    moved[100:160, 120:200] = 250
    for i, image in enumerate([still, still, moved]):
        pipeline.process(Frame("yard", i, 0.0, i / 5, image))
    boxes = recorder.frames[-1].metadata[MOTION_BOXES]
    assert len(boxes) == 1
    x1, y1, x2, y2 = boxes[0]
    assert x1 <= 120 and y1 <= 100 and x2 >= 200 and y2 >= 160
