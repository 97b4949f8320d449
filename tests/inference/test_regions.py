"""Region inference: motion boxes → model-sized crops → detections in frame pixels."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from sightwire.core import Detections, Frame
from sightwire.core.frame import MOTION_BOXES
from sightwire.inference.darknet import DarknetDetector
from sightwire.inference.nms import pairwise_iou
from sightwire.inference.regions import (
    RegionDetectAnalyser,
    detect_in_regions,
    plan_regions,
)
from sightwire.stages import MotionGate
from tests.inference.real_assets import grace_hopper, yolov3_tiny

FRAME = (1080, 1920)
RED = (0, 0, 255)


class RedBoxDetector:
    """Finds saturated red rectangles ('parcel'), with their pixel masks; counts calls."""

    input_size = (320, 320)

    def __init__(self) -> None:
        self.class_names = ["parcel"]
        self.calls: list[int] = []

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        self.calls.append(len(images))
        return [self._one(image) for image in images]

    def _one(self, image: np.ndarray) -> Detections:
        red = cv2.inRange(image, (0, 0, 200), (60, 60, 255))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(red)
        x, y, w, h = (stats[1:, i] for i in range(4))
        return Detections(
            xyxy=np.stack([x, y, x + w, y + h], axis=1),
            confidence=np.full(count - 1, 0.9),
            class_id=np.zeros(count - 1),
            mask=np.stack([labels == i for i in range(1, count)]) if count > 1 else None,
            data={"class_name": np.array(["parcel"] * (count - 1))},
        )


def scene(boxes: Sequence[tuple[int, int, int, int]]) -> np.ndarray:
    """A textured grey frame with red parcels at ``boxes`` (xyxy)."""
    rng = np.random.default_rng(3)
    image = rng.integers(90, 140, (*FRAME, 3), dtype=np.uint8)
    for x1, y1, x2, y2 in boxes:
        cv2.rectangle(image, (x1, y1), (x2 - 1, y2 - 1), RED, thickness=-1)
    return image


def sorted_boxes(detections: Detections) -> np.ndarray:
    return detections.xyxy[np.lexsort(detections.xyxy.T[::-1])]


def test_no_motion_plans_no_region() -> None:
    assert plan_regions(np.zeros((0, 4)), FRAME, 320).shape == (0, 4)


def test_a_small_motion_gets_one_model_sized_square_around_it() -> None:
    regions = plan_regions(np.array([[900, 500, 960, 560]]), FRAME, 320)

    assert regions.tolist() == [[770, 370, 1090, 690]]


def test_regions_stay_inside_the_frame() -> None:
    regions = plan_regions(np.array([[1880, 1050, 1920, 1080]]), FRAME, 320)

    assert regions.tolist() == [[1600, 760, 1920, 1080]]


def test_nearby_motion_shares_a_region_and_far_motion_gets_its_own() -> None:
    motion = np.array([[100, 100, 150, 150], [200, 120, 240, 170], [1500, 800, 1560, 860]])

    regions = plan_regions(motion, FRAME, 320)

    assert len(regions) == 2
    near, far = sorted(regions.tolist())
    assert near[0] <= 100 and near[2] >= 240 and far[0] <= 1500 <= 1560 <= far[2]
    assert all(r[2] - r[0] == 320 and r[3] - r[1] == 320 for r in regions.tolist())


def test_large_motion_gets_a_region_as_large_as_itself() -> None:
    regions = plan_regions(np.array([[100, 100, 600, 400]]), FRAME, 320)

    x1, y1, x2, y2 = regions[0].tolist()
    assert x2 - x1 == y2 - y1 == 600  # 500 px wide motion + 10 % of it each side
    assert x1 <= 100 and x2 >= 600 and y1 <= 100 and y2 >= 400


def test_overlapping_regions_become_one() -> None:
    motion = np.array([[100, 100, 140, 140], [250, 150, 290, 190]])  # too far to merge

    regions = plan_regions(motion, FRAME, 320)

    assert regions.tolist() == [[35, 0, 355, 320]]  # but their squares overlapped much


def test_too_many_regions_fall_back_to_the_whole_frame() -> None:
    corners = [(x, y) for x in (0, 600, 1200) for y in (0, 700)]
    motion = np.array([[x + 50, y + 50, x + 90, y + 90] for x, y in corners])

    assert plan_regions(motion, FRAME, 320, max_regions=4).tolist() == [[0, 0, 1920, 1080]]
    assert len(plan_regions(motion, FRAME, 320, max_regions=6)) == 6


def test_regions_covering_most_of_the_frame_fall_back_to_the_whole_frame() -> None:
    motion = np.array([[100, 100, 1700, 1000]])

    assert plan_regions(motion, FRAME, 320).tolist() == [[0, 0, 1920, 1080]]


def test_motion_gate_regions_find_what_the_whole_frame_finds() -> None:
    parcels = [(300, 200, 420, 290), (480, 240, 560, 330), (1500, 700, 1640, 820)]
    before, after = scene([]), scene(parcels)
    gate = MotionGate()
    gate.update(before)
    motion = gate.update(after)
    detector = RedBoxDetector()

    regions = plan_regions(motion.boxes, FRAME, 320)
    found = detect_in_regions(detector, after, regions)

    assert motion.has_motion and len(regions) == 2
    assert detector.calls == [2]  # both crops in one batch
    whole = detector.detect([after])[0]
    np.testing.assert_allclose(sorted_boxes(found), sorted_boxes(whole))
    np.testing.assert_allclose(sorted_boxes(found), np.array(parcels, np.float32))
    order = np.lexsort(found.xyxy.T[::-1])
    whole_order = np.lexsort(whole.xyxy.T[::-1])
    assert found.mask is not None and whole.mask is not None
    np.testing.assert_array_equal(found.mask[order], whole.mask[whole_order])


def test_an_object_split_between_two_regions_is_reported_once() -> None:
    image = scene([(300, 100, 500, 200)])
    regions = np.array([[0, 0, 420, 420], [380, 0, 800, 420]])  # each sees a part

    found = detect_in_regions(RedBoxDetector(), image, regions)

    assert len(found) == 1
    np.testing.assert_allclose(found.xyxy, [[300, 100, 500, 200]])
    assert found.mask is not None and found.mask[0].sum() == 200 * 100


def test_a_whole_view_beats_a_cut_view_of_the_same_object() -> None:
    image = scene([(250, 100, 350, 200)])
    regions = np.array([[0, 0, 400, 400], [300, 0, 700, 400]])  # the second cuts it

    found = detect_in_regions(RedBoxDetector(), image, regions)

    np.testing.assert_allclose(found.xyxy, [[250, 100, 350, 200]])


def test_an_object_both_regions_see_whole_is_reported_once() -> None:
    image = scene([(320, 100, 380, 200), (100, 100, 150, 150), (600, 300, 650, 350)])
    regions = np.array([[0, 0, 420, 420], [300, 0, 720, 420]])

    found = detect_in_regions(RedBoxDetector(), image, regions)

    expected = [[100, 100, 150, 150], [320, 100, 380, 200], [600, 300, 650, 350]]
    np.testing.assert_allclose(sorted_boxes(found), expected)


def frame_with(image: np.ndarray, **metadata: object) -> Frame:
    return Frame(camera="dock", seq=7, captured_at=0.0, pts=0.0, image=image, metadata=metadata)


def test_analyser_detects_nothing_where_nothing_moved() -> None:
    detector = RedBoxDetector()
    earlier = Detections(xyxy=[[0, 0, 5, 5]], confidence=[1.0], class_id=[3])
    frame = frame_with(scene([(300, 200, 420, 290)]), **{MOTION_BOXES: np.zeros((0, 4))})

    result = RegionDetectAnalyser(detector).analyse(frame, earlier)

    assert len(result) == 1 and detector.calls == []


def test_analyser_without_motion_boxes_looks_at_the_whole_frame() -> None:
    detector = RedBoxDetector()
    frame = frame_with(scene([(300, 200, 420, 290)]))

    result = RegionDetectAnalyser(detector).analyse(frame, Detections.empty())

    np.testing.assert_allclose(result.xyxy, [[300, 200, 420, 290]])
    assert detector.calls == [1]


@pytest.fixture(scope="module")
def darknet() -> DarknetDetector:
    cfg, weights, names = yolov3_tiny()
    return DarknetDetector(cfg, weights, names, confidence=0.3, input_size=(320, 320))


def test_real_detector_finds_a_person_in_a_region_of_a_large_frame(
    darknet: DarknetDetector,
) -> None:
    photo = grace_hopper()  # 600 x 512 portrait pasted into a 1080p frame
    image = np.full((*FRAME, 3), 110, np.uint8)
    image[300:900, 1200:1712] = photo
    frame = frame_with(image, **{MOTION_BOXES: np.array([[1210, 320, 1700, 880]])})

    analyser = RegionDetectAnalyser(darknet, classes=["person"])
    people = analyser.analyse(frame, Detections.empty())

    assert len(analyser.regions_of(frame)) == 1
    assert len(people) == 1
    assert pairwise_iou(people.xyxy, [[1200, 360, 1712, 900]])[0, 0] > 0.7
