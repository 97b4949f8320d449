"""The motion gate on hand-made frames: noise, lighting, sizes, boxes and speed."""

from __future__ import annotations

import time

import numpy as np
import numpy.typing as npt
import pytest

from sightwire.config.models import MotionConfig
from sightwire.core.frame import Frame
from sightwire.stages import MotionGate, merge_boxes

Image = npt.NDArray[np.uint8]


def scene(seed: int = 0, size: tuple[int, int] = (1280, 720)) -> Image:
    """A textured, still picture."""
    width, height = size
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 220, (height // 40 + 1, width // 40 + 1, 3)).astype(np.uint8)
    big = np.repeat(np.repeat(small, 40, axis=0), 40, axis=1)[:height, :width]
    return np.ascontiguousarray(big)


def noisy(image: Image, rng: np.random.Generator, sigma: float) -> Image:
    noise = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(sigma)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def test_sensor_noise_never_fires() -> None:
    rng = np.random.default_rng(1)
    base = scene()
    gate = MotionGate()
    results = [gate.update(noisy(base, rng, 6.0)) for _ in range(30)]
    assert not any(r.has_motion for r in results)
    assert max(r.changed_share for r in results) == 0.0


def test_a_moving_object_is_found_where_it_is() -> None:
    base = scene()
    gate = MotionGate()
    gate.update(base)
    for step in range(10):
        image = base.copy()
        x = 100 + 60 * step
        image[300:420, x : x + 100] = (20, 20, 200)
        result = gate.update(image)
        assert result.has_motion and len(result.boxes) == 1
        x1, y1, x2, y2 = result.boxes[0]
        assert x1 <= x and y1 <= 300 and x2 >= x + 100 and y2 >= 420
        assert (x2 - x1) * (y2 - y1) < 2.0 * 100 * 120


def test_boxes_are_in_full_frame_pixels_of_any_size() -> None:
    base = scene(size=(1920, 1080))
    gate = MotionGate(MotionConfig(width=160))
    gate.update(base)
    image = base.copy()
    image[900:1000, 1700:1850] = 255
    (box,) = gate.update(image).boxes.tolist()
    assert box[0] <= 1700 <= 1850 <= box[2] <= 1920
    assert box[1] <= 900 <= 1000 <= box[3] <= 1080


def test_small_changes_under_min_area_are_ignored() -> None:
    base = scene()
    gate = MotionGate(MotionConfig(min_area=0.01))
    gate.update(base)
    speck = base.copy()
    speck[100:116, 100:116] = 0
    assert not gate.update(speck).has_motion
    blob = base.copy()
    blob[100:260, 100:260] = 0
    assert gate.update(blob).has_motion


def test_a_lighting_step_recalibrates_instead_of_firing() -> None:
    rng = np.random.default_rng(2)
    base = scene()
    gate = MotionGate()
    for _ in range(5):
        gate.update(noisy(base, rng, 2.0))
    darker = (base * 0.6).astype(np.uint8)
    step = gate.update(noisy(darker, rng, 2.0))
    assert step.recalibrated and not step.has_motion
    after = [gate.update(noisy(darker, rng, 2.0)) for _ in range(10)]
    assert not any(r.has_motion or r.recalibrated for r in after)


def test_a_slow_brightness_drift_is_neither_motion_nor_recalibration() -> None:
    base = scene().astype(np.float32)
    gate = MotionGate()
    results = [
        gate.update(np.clip(base * (1.0 - 0.004 * i), 0, 255).astype(np.uint8)) for i in range(100)
    ]
    assert not any(r.has_motion for r in results)
    assert [i for i, r in enumerate(results) if r.recalibrated] == [0]


def test_a_change_of_most_of_the_picture_recalibrates() -> None:
    gate = MotionGate(MotionConfig(lighting_change=0.5))
    gate.update(scene(seed=1))
    assert gate.update(scene(seed=2)).recalibrated


def test_something_that_stops_is_learnt_after_hold_frames() -> None:
    base = scene()
    gate = MotionGate(MotionConfig(learning_rate=0.05), hold_frames=20)
    gate.update(base)
    parked = base.copy()
    parked[300:420, 600:700] = 0
    results = [gate.update(parked) for _ in range(80)]
    assert results[0].has_motion and results[20].has_motion
    assert not results[-1].has_motion


def test_new_frame_size_recalibrates_and_reset_forgets() -> None:
    gate = MotionGate()
    assert gate.update(scene()).recalibrated
    assert not gate.update(scene()).recalibrated
    assert gate.update(scene(size=(640, 360))).recalibrated
    gate.reset()
    assert gate.update(scene(size=(640, 360))).recalibrated


def test_grey_frames_and_frame_objects_are_accepted() -> None:
    gate = MotionGate()
    grey = scene()[:, :, 1].copy()
    gate.update(grey)
    grey[200:400, 200:400] = 0
    assert gate.update(grey).has_motion
    frame = Frame(camera="c", seq=0, captured_at=0.0, pts=0.0, image=scene())
    assert MotionGate()(frame).recalibrated


def test_disabled_gate_passes_everything() -> None:
    gate = MotionGate(MotionConfig(enabled=False))
    result = gate.update(scene())
    assert result.has_motion and result.boxes.tolist() == [[0, 0, 1280, 720]]


def test_merge_boxes_joins_chains_and_keeps_the_rest() -> None:
    boxes = np.array(
        [[0, 0, 10, 10], [8, 8, 20, 20], [18, 18, 30, 30], [50, 50, 60, 60]], np.float32
    )
    assert merge_boxes(boxes).tolist() == [[0, 0, 30, 30], [50, 50, 60, 60]]
    assert merge_boxes(np.zeros((0, 4), np.float32)).shape == (0, 4)


def test_gate_speed_at_720p() -> None:
    """Runs on every frame: well under a millisecond or two on one core."""
    rng = np.random.default_rng(3)
    images = [noisy(scene(), rng, 2.0) for _ in range(4)]
    gate = MotionGate()
    gate.update(images[0])
    start = time.perf_counter()
    for i in range(200):
        gate.update(images[i % 4])
    ms = (time.perf_counter() - start) / 200 * 1000
    print(f"motion gate: {ms:.2f} ms/frame at 1280x720")
    assert ms < 10.0


@pytest.mark.parametrize("threshold", [10, 40])
def test_threshold_decides_what_counts(threshold: int) -> None:
    base = scene()
    gate = MotionGate(MotionConfig(threshold=threshold))
    gate.update(base)
    faint = base.astype(np.int16)
    faint[200:400, 200:400] += 25
    result = gate.update(np.clip(faint, 0, 255).astype(np.uint8))
    assert result.has_motion == (threshold < 25)
