"""The synthetic scene generator: deterministic, and as noisy as specified."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sightwire.tracking import box_iou
from sightwire.tracking.synthetic import SceneSpec, make_scene

SPEC = SceneSpec(objects=8, frames=300, seed=5)


def test_same_seed_same_scene() -> None:
    a, b = make_scene(SPEC), make_scene(SPEC)
    assert len(a) == len(b) == 300
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.detections.xyxy, y.detections.xyxy)
        assert x.truth.tracker_id is not None and y.truth.tracker_id is not None
        np.testing.assert_array_equal(x.truth.tracker_id, y.truth.tracker_id)
    other = make_scene(replace(SPEC, seed=6))
    assert not np.array_equal(a[10].truth.xyxy, other[10].truth.xyxy)


def test_truth_ids_unique_and_inside_the_frame() -> None:
    for frame in make_scene(SPEC):
        ids = frame.truth.tracker_id
        assert ids is not None and len(set(ids.tolist())) == len(ids)
        assert (frame.truth.xyxy >= 0).all()
        assert (frame.truth.xyxy[:, [2, 3]] <= [1280, 720]).all()


def test_objects_cross_hide_leave_and_enter() -> None:
    frames = make_scene(SPEC)
    crossings = sum(
        int((np.triu(box_iou(f.truth.xyxy, f.truth.xyxy), 1) > 0.1).sum()) for f in frames
    )
    assert crossings > 10
    seen = [set(np.asarray(f.truth.tracker_id).tolist()) for f in frames]
    hidden_then_back = any(
        i in seen[k] and i not in seen[k + 1] and i in seen[k + 6]
        for k in range(len(seen) - 6)
        for i in seen[k]
    )
    assert hidden_then_back
    assert max(max(s) for s in seen) >= SPEC.objects, "new objects entered"


def test_detector_noise_matches_the_spec() -> None:
    spec = replace(SPEC, frames=600, miss_rate=0.1, weak_rate=0.2, false_positives=1.0)
    frames = make_scene(spec)
    truths = sum(len(f.truth) for f in frames)
    matched = weak = spurious = 0
    for f in frames:
        iou = box_iou(f.detections.xyxy, f.truth.xyxy)
        real = iou.max(axis=1, initial=0) > 0.7
        matched += int(real.sum())
        weak += int((f.detections.confidence[real] < 0.5).sum())
        spurious += int((~real).sum())
    assert 0.85 < matched / truths < 0.95
    assert 0.15 < weak / matched < 0.25
    assert 0.8 < spurious / len(frames) < 1.2


def test_skip_rate_leaves_gaps_in_pts() -> None:
    frames = make_scene(replace(SPEC, skip_rate=0.5))
    steps = np.diff([f.pts for f in frames])
    assert 100 < len(frames) < 200
    assert steps.max() > 2.5 / SPEC.fps
    assert np.allclose(steps * SPEC.fps, np.round(steps * SPEC.fps))
