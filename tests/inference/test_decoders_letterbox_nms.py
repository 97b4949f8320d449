"""Letterboxing, the input blob, the way back to frame pixels, and class-aware NMS."""

from __future__ import annotations

import numpy as np
import pytest

from sightwire.inference.letterbox import PAD_VALUE, Letterbox, letterbox, make_blob
from sightwire.inference.nms import class_aware_nms, nms_numpy, pairwise_iou


@pytest.mark.parametrize(
    ("frame", "model"), [((720, 1280), (640, 640)), ((600, 512), (320, 320)), ((50, 40), (64, 96))]
)
def test_boxes_survive_the_round_trip_through_the_letterbox(
    frame: tuple[int, int], model: tuple[int, int]
) -> None:
    placement = Letterbox.fit(frame, model)
    h, w = frame
    boxes = np.array([[0, 0, w, h], [w * 0.2, h * 0.3, w * 0.6, h * 0.9]], np.float32)

    np.testing.assert_allclose(placement.to_frame(placement.to_input(boxes)), boxes, atol=1e-3)


def test_boxes_outside_the_picture_are_clipped_to_the_frame() -> None:
    placement = Letterbox.fit((720, 1280), (640, 640))  # bands of 140 px above and below

    mapped = placement.to_frame(np.array([[-10, 100, 700, 600]], np.float32))

    np.testing.assert_allclose(mapped, [[0, 0, 1280, 720]])


def test_letterbox_keeps_the_aspect_and_pads_with_grey() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    image[:, :, 2] = 255  # red in BGR

    boxed, placement = letterbox(image, (64, 64))

    assert placement.scale == pytest.approx(0.32) and placement.pad_y == 16
    assert (boxed[:16] == PAD_VALUE).all() and (boxed[48:] == PAD_VALUE).all()
    assert (boxed[16:48, :, 2] == 255).all() and (boxed[16:48, :, :2] == 0).all()


def test_blob_is_rgb_nchw_in_unit_range_for_each_image() -> None:
    first = np.zeros((64, 64, 3), np.uint8)
    first[..., 0] = 255  # blue
    second = np.zeros((32, 64, 3), np.uint8)
    second[..., 2] = 51  # dark red, letterboxed into rows 16..47

    blob, placements = make_blob([first, second], (64, 64))

    assert blob.shape == (2, 3, 64, 64) and blob.dtype == np.float32
    np.testing.assert_allclose(blob[0, 2], 1.0)  # blue is channel 2 of RGB
    np.testing.assert_allclose(blob[0, :2], 0.0)
    np.testing.assert_allclose(blob[1, 0, 16:48], 0.2, atol=1e-6)  # red is channel 0
    np.testing.assert_allclose(blob[1, :, :16], PAD_VALUE / 255, atol=1e-6)
    assert placements[1].pad_y == 16


def test_half_precision_blob_matches_the_float_one() -> None:
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, (48, 80, 3), dtype=np.uint8) for _ in range(2)]

    single, _ = make_blob(images, (64, 64))
    half, _ = make_blob(images, (64, 64), np.float16)

    assert half.dtype == np.float16
    np.testing.assert_allclose(half.astype(np.float32), single, atol=1e-3)


def test_nms_keeps_overlapping_boxes_of_different_classes() -> None:
    boxes = np.array([[0, 0, 100, 100], [5, 5, 105, 105], [5, 5, 105, 105]], np.float32)

    kept = class_aware_nms(boxes, np.array([0.9, 0.8, 0.7]), np.array([0, 1, 0]), iou=0.5)

    assert kept.tolist() == [0, 1]


def test_nms_keeps_same_class_boxes_that_overlap_little() -> None:
    boxes = np.array([[0, 0, 100, 100], [60, 0, 160, 100]], np.float32)  # IoU 0.25

    assert class_aware_nms(boxes, np.array([0.9, 0.8]), np.array([3, 3]), 0.5).tolist() == [0, 1]
    assert class_aware_nms(boxes, np.array([0.9, 0.8]), np.array([3, 3]), 0.2).tolist() == [0]


def test_opencv_and_numpy_nms_agree_on_crowded_scenes() -> None:
    rng = np.random.default_rng(7)
    corners = rng.uniform(0, 300, (400, 2)).astype(np.float32)
    boxes = np.concatenate([corners, corners + rng.uniform(20, 90, (400, 2))], axis=1)
    scores = rng.permutation(400).astype(np.float32) / 400  # distinct: one right order
    classes = rng.integers(0, 4, 400)

    fast = class_aware_nms(boxes, scores, classes, 0.45)

    assert fast.tolist() == nms_numpy(boxes, scores, classes, 0.45).tolist()
    assert 20 < len(fast) < 400  # something was suppressed, something kept
    kept = boxes[fast]
    same = classes[fast][:, None] == classes[fast][None, :]
    overlap = pairwise_iou(kept, kept)
    assert (overlap[same & ~np.eye(len(fast), dtype=bool)] <= 0.45 + 1e-6).all()


def test_nms_of_nothing_is_nothing() -> None:
    empty = np.zeros((0, 4), np.float32)

    assert class_aware_nms(empty, np.zeros(0), np.zeros(0), 0.5).tolist() == []
