"""The static and lighting clips show what their ground truth says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sightwire.synth import GroundTruth, write_lighting, write_static

from .scenes import Clip, Image, frames


def _pictures(clip: Clip, wanted: set[int]) -> dict[int, Image]:
    return {i: image for i, image in frames(clip.path) if i in wanted}


def test_static_activity_is_sparse_and_matches_the_objects(static: Clip) -> None:
    truth = static.truth
    assert len(truth.objects) == 3 and len(truth.activity_intervals) == 3
    assert 0.02 < sum(truth.activity) / len(truth.activity) < 0.08
    for interval, thing in zip(truth.activity_intervals, truth.objects, strict=True):
        assert thing.entry_frame <= interval.start_frame <= interval.end_frame <= thing.exit_frame
        assert interval.start_s == pytest.approx(interval.start_frame / truth.scene.fps)
        assert all(
            frame in thing.boxes for frame in range(interval.start_frame, interval.end_frame + 1)
        )
    assert not truth.activity[0], "the clip starts idle, so a background can be learnt"


def test_static_objects_are_drawn_where_the_truth_says(static: Clip) -> None:
    truth = static.truth
    middles = {(i.start_frame + i.end_frame) // 2 for i in truth.activity_intervals}
    pictures = _pictures(static, middles | {0})
    empty = pictures[0].astype(np.int16)
    for frame in sorted(middles):
        change = np.abs(pictures[frame].astype(np.int16) - empty).max(axis=2) > 40
        (box,) = [t.boxes[frame] for t in truth.objects if frame in t.boxes]
        x1, y1, x2, y2 = box
        assert change[y1:y2, x1:x2].mean() > 0.3, "the object covers a good part of its box"
        # Two pixels around the box may bleed: anti-aliasing and half-size chroma.
        change[max(y1 - 2, 0) : y2 + 2, max(x1 - 2, 0) : x2 + 2] = False
        assert not change.any(), "nothing changes away from the object's box"


def test_lighting_changes_brightness_as_the_truth_says(lighting: Clip) -> None:
    truth = lighting.truth
    step, ramp = truth.lighting_changes
    assert (step.kind, ramp.kind) == ("step", "ramp")
    assert step.start_frame == round(12.0 * truth.scene.fps) and step.gain_after == 0.6
    wanted = {step.start_frame - 1, step.start_frame, ramp.start_frame - 1, ramp.end_frame}
    pictures = _pictures(lighting, wanted)
    wall = (slice(20, 80), slice(200, 400))  # bare wall: no shelf, no people

    def level(frame: int) -> float:
        return float(pictures[frame][wall].mean())

    assert level(step.start_frame) / level(step.start_frame - 1) == pytest.approx(0.6, abs=0.03)
    assert level(ramp.end_frame) / level(ramp.start_frame - 1) == pytest.approx(
        ramp.gain_after / ramp.gain_before, abs=0.03
    )
    for interval in truth.activity_intervals:
        assert not interval.start_frame <= step.start_frame <= interval.end_frame


def test_lighting_clip_can_switch_with_a_person_in_view(tmp_path: Path) -> None:
    truth = write_lighting(
        tmp_path / "switch.mp4",
        seconds=8.0,
        fps=5.0,
        size=(320, 180),
        step_at_s=3.0,
        step_gain=1.45,
        ramp_s=None,
        events=[2.6],
    )
    (step,) = truth.lighting_changes
    assert truth.activity[step.start_frame]
    assert GroundTruth.load(tmp_path / "switch.json") == truth


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"step_at_s": 50.0}, "outside the clip"),
        ({"ramp_s": (5.0, 8.0)}, "after the step"),
        ({"step_gain": 0.0}, "step_gain"),
    ],
)
def test_lighting_refuses_impossible_options(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        write_lighting(tmp_path / "bad.mp4", size=(320, 180), **options)  # type: ignore[arg-type]


def test_static_events_can_be_given_as_times(tmp_path: Path) -> None:
    truth = write_static(
        tmp_path / "timed.mp4", seconds=10.0, fps=5.0, size=(320, 180), events=[1.0, 6.0]
    )
    assert [t.entry_frame for t in truth.objects] == [6, 31]
