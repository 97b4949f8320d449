"""The measure step: millimetres from pixels, robust per track."""

from __future__ import annotations

import numpy as np
import pytest

from sightwire.analysis import MeasureAnalyser
from sightwire.config.models import MeasureOptions
from sightwire.core import Detections
from tests.analysis.scenes import WIDTH, Mover, frame, times, tracked


def measure(length: str = "longer") -> MeasureAnalyser:
    options = {"within": "parcel", "mm_per_pixel": 1.5, "length": length}
    return MeasureAnalyser(MeasureOptions.model_validate(options))


def test_known_pixels_give_known_millimetres() -> None:
    step = measure()
    parcel = Mover(1, (600, 360), size=(200, 120))  # 300 x 180 mm
    out = step.analyse(frame(0.0), tracked([parcel], 0.0))
    assert out.data["length_mm"].tolist() == [300.0]
    assert out.data["width_mm"].tolist() == [180.0]
    assert out.data["size_samples"].tolist() == [1]
    assert out.tracker_id is not None and out.tracker_id.tolist() == [1]  # columns added, not lost


def test_length_along_the_belt_or_the_longer_side() -> None:
    upright = Mover(1, (600, 360), size=(100, 300))
    assert measure("x").analyse(frame(0.0), tracked([upright], 0.0)).data["length_mm"][0] == 150
    assert (
        measure("longer").analyse(frame(0.0), tracked([upright], 0.0)).data["length_mm"][0] == 450
    )
    assert measure("y").analyse(frame(0.0), tracked([upright], 0.0)).data["width_mm"][0] == 150


def test_an_object_entering_the_view_is_measured_only_once_fully_in_view() -> None:
    step = measure()
    size = (200.0, 120.0)
    history = []
    for i, t in enumerate(times(2)):
        cx = -50 + 300 * t  # enters from the left edge, fully in view from t ~ 0.5
        box = [max(0.0, cx - 100), 300, cx + 100, 420]  # the detector sees the visible part
        d = Detections(
            np.array([box], np.float32),
            np.array([0.9], np.float32),
            np.array([0]),
            tracker_id=np.array([1]),
            data={"class_name": np.array(["parcel"])},
        )
        out = step.analyse(frame(t, i), d)
        history.append((out.data["length_mm"][0], int(out.data["size_samples"][0])))
    partial = [h for h in history if h[1] == 0]
    assert partial and all(np.isnan(length) for length, _ in partial)
    assert history[-1] == (pytest.approx(size[0] * 1.5), 20 - len(partial))
    assert all(length == pytest.approx(300.0) for length, n in history if n > 0)


def test_the_median_ignores_a_bad_frame() -> None:
    step = measure()
    sizes = [(200, 120)] * 4 + [(400, 120)] + [(200, 120)] * 2
    for i, size in enumerate(sizes):
        out = step.analyse(frame(i / 10, i), tracked([Mover(3, (600, 360), size=size)], i / 10))
    assert out.data["length_mm"][0] == 300.0 and out.data["size_samples"][0] == len(sizes)


def test_objects_of_other_classes_are_not_measured() -> None:
    out = measure().analyse(frame(0.0), tracked([Mover(1, (600, 360), class_name="person")], 0.0))
    assert np.isnan(out.data["length_mm"][0]) and out.data["size_samples"][0] == 0


def test_an_object_cut_by_the_right_edge_is_not_measured() -> None:
    leaving = Mover(1, (WIDTH - 40, 360), size=(200, 120))
    out = measure().analyse(frame(0.0), tracked([leaving], 0.0))
    assert np.isnan(out.data["length_mm"][0])
