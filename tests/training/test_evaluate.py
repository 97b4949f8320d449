"""The detector evaluation (training/evaluate.py) and the in-memory conveyor renderer
(training/scenes.py): the metric, the YOLOv8 decoding and the letterbox are right, and
the renderer draws what ``write_conveyor`` writes. No torch needed."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from training.evaluate import (
    Detections,
    decode_yolov8,
    letterbox,
    map50,
    nms,
    unletterbox,
)
from training.scenes import ConveyorScene, Sample

from sightwire.synth import write_conveyor

F32 = np.float32


def _truth(
    boxes: list[list[float]], classes: list[int], ignored: list[bool] | None = None
) -> Sample:
    return Sample(
        image=np.zeros((4, 4, 3), np.uint8),
        boxes=np.asarray(boxes, F32).reshape(-1, 4),
        classes=np.asarray(classes, np.int64),
        ignored=np.asarray(ignored or [False] * len(classes), bool),
    )


def _dets(boxes: list[list[float]], scores: list[float], classes: list[int]) -> Detections:
    return Detections(
        np.asarray(boxes, F32).reshape(-1, 4),
        np.asarray(scores, F32),
        np.asarray(classes, np.int64),
    )


def test_perfect_detections_score_one() -> None:
    truth = _truth([[0, 0, 10, 10], [20, 20, 40, 30]], [0, 1])
    found = _dets([[0, 0, 10, 10], [20, 20, 40, 30]], [0.9, 0.8], [0, 1])
    result = map50([found], [truth])
    assert result["map50"] == pytest.approx(1.0)
    assert result["objects"] == {"parcel": 1, "label": 1}


def test_a_false_positive_ranked_between_hits_costs_its_share() -> None:
    truth = _truth([[0, 0, 10, 10], [50, 50, 60, 60]], [0, 0])
    found = _dets(
        [[0, 0, 10, 10], [100, 100, 110, 110], [50, 50, 60, 60]], [0.9, 0.8, 0.7], [0, 0, 0]
    )
    # precision 1 up to recall 0.5, then 2/3 at recall 1: AP = 0.5 + 0.5 * 2/3
    assert map50([found], [truth], classes=1)["map50"] == pytest.approx(0.5 + 1 / 3)


def test_a_duplicate_is_a_false_positive_and_a_miss_lowers_recall() -> None:
    truth = _truth([[0, 0, 10, 10], [50, 50, 60, 60]], [0, 0])
    found = _dets([[0, 0, 10, 10], [1, 0, 10, 10]], [0.9, 0.8], [0, 0])
    assert map50([found], [truth], classes=1)["map50"] == pytest.approx(0.5)


def test_ignored_objects_neither_count_nor_cost() -> None:
    truth = _truth([[0, 0, 10, 10], [50, 50, 55, 60]], [0, 0], [False, True])
    on_ignored = _dets([[50, 50, 55, 60], [0, 0, 10, 10]], [0.95, 0.9], [0, 0])
    assert map50([on_ignored], [truth], classes=1)["map50"] == pytest.approx(1.0)
    missed = _dets([[0, 0, 10, 10]], [0.9], [0])
    assert map50([missed], [truth], classes=1)["map50"] == pytest.approx(1.0)


def test_a_box_of_the_wrong_class_does_not_match() -> None:
    truth = _truth([[0, 0, 10, 10]], [1])
    found = _dets([[0, 0, 10, 10]], [0.9], [0])
    assert map50([found], [truth])["ap50"]["label"] == pytest.approx(0.0)


def test_decode_reads_the_yolov8_layout_with_per_class_nms() -> None:
    out = np.zeros((6, 5), F32)
    out[:, 0] = [50, 40, 20, 10, 0.9, 0.0]  # parcel at (40, 35)-(60, 45)
    out[:, 1] = [51, 40, 20, 10, 0.8, 0.0]  # its duplicate: suppressed
    out[:, 2] = [50, 40, 20, 10, 0.0, 0.7]  # a label on the same spot: kept
    out[:, 3] = [10, 10, 4, 4, 0.0005, 0.0]  # below the score threshold
    found = decode_yolov8(out, conf=0.001, iou=0.6)
    assert found.classes.tolist() == [0, 1]
    assert found.boxes[0].tolist() == [40, 35, 60, 45]
    assert found.scores.tolist() == pytest.approx([0.9, 0.7])


def test_nms_keeps_the_best_of_overlapping_boxes_up_to_a_limit() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30], [0, 0, 9, 10]], F32)
    scores = np.array([0.9, 0.8, 0.7, 0.95], F32)
    assert nms(boxes, scores, 0.5).tolist() == [3, 2]
    assert nms(boxes, scores, 0.5, limit=1).tolist() == [3]
    assert nms(boxes[:0], scores[:0], 0.5).tolist() == []


def test_letterbox_of_a_720p_frame_and_back() -> None:
    frame = np.full((720, 1280, 3), 200, np.uint8)
    canvas, ratio, (left, top) = letterbox(frame, (192, 320))
    assert canvas.shape == (192, 320, 3) and ratio == 0.25 and (left, top) == (0, 6)
    assert (
        (canvas[:6] == 114).all() and (canvas[186:] == 114).all() and (canvas[6:186] == 200).all()
    )
    back = unletterbox(np.array([[0, 6, 80, 56]], F32), ratio, (left, top), (720, 1280))
    assert back.tolist() == [[0, 0, 320, 200]]


def test_the_renderer_draws_what_write_conveyor_writes(tmp_path: Path) -> None:
    options = {"seconds": 6.0, "parcels": 1, "seed": 5, "lighting": "uneven", "motion_blur": 0.5}
    truth = write_conveyor(tmp_path / "belt.mp4", **options)
    scene = ConveyorScene(**options)
    with av.open(str(tmp_path / "belt.mp4")) as clip:
        decoded = [f.to_ndarray(format="bgr24") for f in clip.decode(video=0)]
    parcel = truth.parcels[0]
    for index in (0, 40, 80, 120, 149):
        sample = scene.render(index)
        # the same picture, up to H.264 compression
        assert np.abs(sample.image.astype(int) - decoded[index].astype(int)).mean() < 3.0
        expected = [b for b in (parcel.boxes.get(index), parcel.label_boxes.get(index)) if b]
        assert sample.boxes.tolist() == [list(map(float, b)) for b in expected]
        assert sample.classes.tolist() == [0, 1][: len(expected)]


def test_objects_less_than_a_fifth_in_view_are_ignored() -> None:
    scene = ConveyorScene(seconds=8.0, parcels=1, seed=9, belt_speed_px_s=400)
    parcel = scene.truths[0]
    entering = [
        f for f in sorted(parcel.boxes) if parcel.boxes[f][0] == 0 and parcel.boxes[f][2] < 400
    ]
    shares = []
    for index in entering:
        sample = scene.render(index)
        x1, _, x2, _ = sample.boxes[0]
        share = (x2 - x1) / parcel.size_px[0]
        shares.append(share)
        assert bool(sample.ignored[0]) == (share < 0.2)
    assert min(shares) < 0.2 < max(shares)
