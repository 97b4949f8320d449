"""ByteTracker on hand-made scenes: crossings, occlusions, gaps, classes, edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from sightwire.config.models import TrackOptions
from sightwire.core import Detections
from sightwire.tracking import ByteTracker
from sightwire.tracking.assignment import SOLVER, Solver, greedy
from tests.tracking.scenes import Mover, detections, frame_times, ids_of, run

SOLVERS = pytest.mark.parametrize("solver", [SOLVER, greedy], ids=["default", "greedy"])


def _single_id(frames: list[dict[int, int]], mover: int) -> int:
    ids = ids_of(frames, mover)
    assert ids, f"mover {mover} was never tracked"
    assert len(set(ids)) == 1, f"mover {mover} changed id: {ids}"
    return ids[0]


@SOLVERS
@pytest.mark.parametrize("dy", [0.0, 12.0, 30.0], ids=["head-on", "offset", "glancing"])
def test_ids_survive_a_crossing(solver: Solver, dy: float) -> None:
    movers = [Mover((100, 200), (200, 0)), Mover((500, 200 + dy), (-200, -dy))]
    frames = run(ByteTracker(solver=solver), movers, frame_times(25, 2.0))
    assert _single_id(frames, 0) != _single_id(frames, 1)
    assert all(len(f) == 2 for f in frames[1:]), "both tracked on every frame after birth"


@SOLVERS
def test_ids_survive_an_x_crossing_of_different_sizes(solver: Solver) -> None:
    movers = [
        Mover((100, 100), (150, 100), size=(60, 50)),
        Mover((400, 100), (-150, 100), size=(50, 70)),
    ]
    frames = run(ByteTracker(solver=solver), movers, frame_times(10, 2.0))
    assert _single_id(frames, 0) != _single_id(frames, 1)


def test_id_survives_a_five_frame_occlusion() -> None:
    movers = [Mover((100, 200), (150, 40))]
    hidden = {i: {0} for i in range(20, 25)}
    frames = run(ByteTracker(), movers, frame_times(25, 2.0), hidden)
    assert [0 in f for f in frames[18:27]] == [True, True] + [False] * 5 + [True, True]
    assert _single_id(frames, 0) == 1


@SOLVERS
def test_ids_survive_a_crossing_where_one_hides_behind_the_other(solver: Solver) -> None:
    # They meet at t = 1 s (frame 25); the far one is hidden for frames 22-26.
    movers = [Mover((100, 200), (200, 0)), Mover((500, 210), (-200, 0))]
    hidden = {i: {1} for i in range(22, 27)}
    frames = run(ByteTracker(solver=solver), movers, frame_times(25, 2.0), hidden)
    assert _single_id(frames, 0) != _single_id(frames, 1)
    assert 1 in frames[27]


def test_no_id_switch_among_many_parallel_movers() -> None:
    movers = [Mover((50 + 60 * i, 100 + 5 * i), (80, 20 * (i % 3))) for i in range(10)]
    frames = run(ByteTracker(), movers, frame_times(25, 3.0))
    ids = [_single_id(frames, i) for i in range(10)]
    assert sorted(ids) == list(range(1, 11))


@pytest.mark.parametrize("fps", [2.0, 5.0, 30.0, 60.0])
def test_works_at_any_frame_rate(fps: float) -> None:
    movers = [Mover((100, 200), (60, 0)), Mover((400, 200), (-60, 0))]
    frames = run(ByteTracker(), movers, frame_times(fps, 5.0))
    assert _single_id(frames, 0) != _single_id(frames, 1)


def test_skipped_frames_within_max_age_keep_ids() -> None:
    movers = [Mover((100, 200), (150, 0)), Mover((100, 400), (100, 60))]
    times = frame_times(25, 1.0) + frame_times(25, 1.0, start=1.6)  # 0.6 s skipped
    frames = run(ByteTracker(TrackOptions(max_age_s=1.0)), movers, times)
    assert _single_id(frames, 0) != _single_id(frames, 1)
    assert len(frames[25]) == 2, "both found on the first frame after the gap"


def test_lost_track_kept_for_max_age_then_dropped() -> None:
    mover = Mover((300, 200), (0, 0))
    times = frame_times(10, 4.0)
    # Missed on processed frames 10-14 (0.5 s lost): same id.
    short = run(
        ByteTracker(TrackOptions(max_age_s=0.8)), [mover], times, {i: {0} for i in range(10, 15)}
    )
    assert _single_id(short, 0) == 1
    # Missed on frames 10-19 (1 s lost, more than 0.8 s): a new id afterwards.
    long = run(
        ByteTracker(TrackOptions(max_age_s=0.8)), [mover], times, {i: {0} for i in range(10, 20)}
    )
    assert sorted(set(ids_of(long, 0))) == [1, 2]
    assert long[21][0] == 2


def test_max_age_is_stream_time_not_frames() -> None:
    # 0.9 s without the object: 9 frames at 10 fps, 45 at 50 fps; same verdict.
    for fps in (10, 50):
        times = frame_times(fps, 3.0)
        missing = {i: {0} for i in range(fps, fps + round(0.9 * fps))}
        kept = run(
            ByteTracker(TrackOptions(max_age_s=1.0)), [Mover((300, 200), (0, 0))], times, missing
        )
        assert set(ids_of(kept, 0)) == {1}, fps
        dropped = run(
            ByteTracker(TrackOptions(max_age_s=0.5)), [Mover((300, 200), (0, 0))], times, missing
        )
        assert set(ids_of(dropped, 0)) == {1, 2}, fps


def test_still_object_keeps_id_through_a_long_idle_gap() -> None:
    # The motion gate skipped 10 s of frames: nothing was seen missing.
    times = [0.0, 0.04, 0.08, 10.08, 10.12]
    frames = run(ByteTracker(TrackOptions(max_age_s=1.0)), [Mover((300, 200), (0, 0))], times)
    assert [f.get(0) for f in frames] == [None, 1, 1, 1, 1]


def test_stopped_object_matches_where_last_seen_after_a_gap() -> None:
    # A belt moving at 200 px/s stops; the frames while it stands are skipped.
    moving = Mover((100, 200), (200, 0))
    tracker = ByteTracker()
    before = run(tracker, [moving], frame_times(25, 1.0))
    stopped = Mover((moving.box(0.96)[0] + 20, 220), (0, 0))
    after = run(tracker, [stopped], [4.0, 4.04])
    assert _single_id(before, 0) == after[0][0] == after[1][0]


def test_object_elsewhere_after_a_gap_gets_new_id() -> None:
    tracker = ByteTracker()
    run(tracker, [Mover((100, 200), (0, 0))], frame_times(25, 0.4))
    after = run(tracker, [Mover((700, 500), (0, 0))], [3.0, 3.04])
    assert after[1][0] == 2


def test_tracks_die_when_lost_past_max_age_even_across_a_gap() -> None:
    tracker = ByteTracker(TrackOptions(max_age_s=1.0))
    still = Mover((300, 200), (0, 0))
    run(tracker, [still], frame_times(25, 0.4))
    run(tracker, [], [0.44])  # seen missing
    back = run(tracker, [still], [5.0, 5.04])
    assert back[1][0] == 2


def test_a_parcel_never_takes_a_labels_id() -> None:
    parcel, label = Mover((300, 200), (50, 0), class_id=0), Mover((300, 200), (50, 0), class_id=1)
    tracker = ByteTracker(TrackOptions(min_hits=1))
    first = run(tracker, [parcel], frame_times(25, 0.4))
    # The label appears exactly where the parcel was predicted; the parcel vanishes.
    later = run(tracker, [label], frame_times(25, 0.4, start=0.4))
    assert _single_id(first, 0) == 1
    assert _single_id(later, 0) == 2


def test_overlapping_objects_of_two_classes_keep_their_ids() -> None:
    parcel = Mover((300, 200), (80, 0), size=(120, 90), class_id=0)
    label = Mover((300, 200), (80, 0), size=(110, 80), class_id=1)
    frames = run(ByteTracker(), [parcel, label], frame_times(25, 2.0))
    assert _single_id(frames, 0) != _single_id(frames, 1)


def test_empty_detections() -> None:
    tracker = ByteTracker()
    out = tracker.update(Detections.empty(), 0.0)
    assert len(out) == 0 and out.tracker_id is not None and out.tracker_id.dtype == np.int64
    run(tracker, [Mover((300, 200), (0, 0))], [0.04, 0.08])
    assert len(tracker.update(Detections.empty(), 0.12)) == 0
    assert tracker.tracks.state.tolist() == [2]  # lost, kept


def test_single_detection_confirmed_after_min_hits() -> None:
    for min_hits in (1, 2, 4):
        frames = run(
            ByteTracker(TrackOptions(min_hits=min_hits)),
            [Mover((50, 50), (30, 0))],
            frame_times(25, 0.4),
        )
        assert [0 in f for f in frames].index(True) == min_hits - 1
        assert _single_id(frames, 0) == 1


def test_one_frame_false_positive_gets_no_id_and_uses_none() -> None:
    tracker = ByteTracker()
    run(tracker, [Mover((600, 300), (0, 0))], [0.0])
    frames = run(tracker, [Mover((100, 100), (0, 0))], [0.04, 0.08])
    assert frames[1][0] == 1


def test_many_detections() -> None:
    grid = [
        Mover((40 + 80 * (i % 20), 40 + 80 * (i // 20)), (25, 10), size=(50, 50))
        for i in range(100)
    ]
    frames = run(ByteTracker(), grid, frame_times(25, 2.0))
    ids = [_single_id(frames, i) for i in range(100)]
    assert sorted(ids) == list(range(1, 101))
    assert all(len(f) == 100 for f in frames[1:])


def test_weak_detections_extend_tracks_but_never_start_them() -> None:
    tracker = ByteTracker()
    mover = Mover((200, 200), (100, 0))
    weak = Mover((600, 400), (0, 0))
    for i, t in enumerate(frame_times(25, 1.0)):
        partly_hidden = 10 <= i < 20
        frame = Detections.merge(
            [detections([mover], t, 0.3 if partly_hidden else 0.9), detections([weak], t, 0.3)]
        )
        out = tracker.update(frame, t)
        if i >= 1:
            assert out.tracker_id is not None and out.tracker_id.tolist() == [1], i


def test_detections_below_the_floor_are_ignored() -> None:
    tracker = ByteTracker(TrackOptions(min_hits=1))
    tracker.update(detections([Mover((200, 200), (0, 0))], 0.0), 0.0)
    out = tracker.update(detections([Mover((200, 200), (0, 0))], 0.04, 0.05), 0.04)
    assert len(out) == 0


def test_output_keeps_input_order_and_columns() -> None:
    tracker = ByteTracker(TrackOptions(min_hits=1))
    movers = [Mover((100 * (i + 1), 100), (0, 0)) for i in range(3)]
    frame = detections(movers, 0.0)
    frame.data["text"] = np.array(["a", "b", "c"])
    frame.tracker_id = np.array([7, 7, 7])
    out = tracker.update(frame, 0.0)
    assert out.data["text"].tolist() == ["a", "b", "c"]
    assert out.tracker_id is not None and out.tracker_id.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(out.xyxy, frame.xyxy)
    assert frame.tracker_id.tolist() == [7, 7, 7], "input not modified"


def test_reset_forgets_tracks_but_never_reuses_ids() -> None:
    tracker = ByteTracker(TrackOptions(min_hits=1))
    still = Mover((300, 200), (0, 0))
    assert run(tracker, [still], [0.0])[0][0] == 1
    tracker.reset()
    assert len(tracker.tracks) == 0
    assert run(tracker, [still], [0.04])[0][0] == 2


def test_time_going_backwards_starts_afresh() -> None:
    tracker = ByteTracker(TrackOptions(min_hits=1))
    still = Mover((300, 200), (0, 0))
    run(tracker, [still], [5.0, 5.04])
    assert run(tracker, [still], [0.0])[0][0] == 2


def test_rejects_non_finite_pts() -> None:
    with pytest.raises(ValueError, match="pts"):
        ByteTracker().update(Detections.empty(), float("nan"))


def test_id_survives_an_abrupt_reversal_at_a_low_frame_rate() -> None:
    # 5 fps, 20 px per frame: the prediction overshoots by 40 px when it turns back.
    tracker = ByteTracker()
    out = run(tracker, [Mover((100, 200), (100, 0))], frame_times(5, 2.0))
    back = Mover((500, 200), (-100, 0))  # at x=300 at t=2 s, heading back
    returned = run(tracker, [back], frame_times(5, 1.0, start=2.0))
    assert _single_id(out, 0) == _single_id(returned, 0) == 1


def test_parcels_in_a_row_keep_their_ids_when_the_belt_stops() -> None:
    # 100 px apart at 200 px/s; the belt stands 0.5 s (frames skipped), so each
    # parcel's prediction lands exactly on the one ahead of it.
    belt = [Mover((100 + 100 * i, 300), (200, 0), size=(60, 60)) for i in range(3)]
    tracker = ByteTracker()
    moving = run(tracker, belt, frame_times(25, 1.0))
    stopped = [Mover(tuple(np.add(m.start, (200 * 0.96, 0))), (0, 0), size=(60, 60)) for m in belt]
    after = run(tracker, stopped, [1.46, 1.5, 1.54])
    for i in range(3):
        assert set(ids_of(moving, i)) == set(ids_of(after, i)), i
