"""Detections: vectorised columns, boolean-mask filtering, merging regions."""

from __future__ import annotations

import numpy as np
import pytest

from sightwire.core import Detections


def _three() -> Detections:
    return Detections(
        xyxy=np.array([[0, 0, 10, 10], [10, 10, 30, 50], [5, 5, 6, 6]]),
        confidence=np.array([0.9, 0.5, 0.2]),
        class_id=np.array([0, 1, 0]),
        tracker_id=np.array([7, 8, 9]),
        data={"text": np.array(["a", "b", "c"])},
    )


def test_boolean_mask_filters_every_column() -> None:
    d = _three()
    kept = d[(d.class_id == 0) & (d.confidence > 0.3)]
    assert len(kept) == 1
    assert kept.tracker_id is not None and kept.tracker_id.tolist() == [7]
    assert kept.data["text"].tolist() == ["a"]
    assert kept.xyxy.tolist() == [[0, 0, 10, 10]]


def test_area_anchor_and_shift() -> None:
    d = _three()
    assert d.area.tolist() == [100.0, 800.0, 1.0]
    assert d.anchors("bottom_center")[1].tolist() == [20.0, 50.0]
    moved = d.shifted(100, 200)
    assert moved.xyxy[0].tolist() == [100, 200, 110, 210]
    assert d.xyxy[0].tolist() == [0, 0, 10, 10]  # the original is untouched


def test_merge_keeps_shared_columns_only() -> None:
    a = _three()
    b = Detections(xyxy=np.array([[1, 1, 2, 2]]), confidence=[0.4], class_id=[2])
    merged = Detections.merge([a, Detections.empty(), b])
    assert len(merged) == 4
    assert merged.tracker_id is None  # b has no tracker ids
    assert merged.data == {}
    assert merged.class_id.tolist() == [0, 1, 0, 2]


def test_columns_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="confidence has 1 rows, expected 2"):
        Detections(xyxy=np.zeros((2, 4)), confidence=[0.1], class_id=[0, 0])
    with pytest.raises(ValueError, match="data column 'text'"):
        Detections(xyxy=np.zeros((1, 4)), confidence=[0.1], class_id=[0], data={"text": ["a", "b"]})


def test_iteration_yields_one_object_each() -> None:
    assert [len(o) for o in _three()] == [1, 1, 1]
    assert [float(o.confidence[0]) for o in _three()] == pytest.approx([0.9, 0.5, 0.2])
