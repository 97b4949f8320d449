"""Zones: enter and exit per track, dwell once per visit, inside every frame."""

from __future__ import annotations

from typing import Any

from sightwire.analysis import SceneAnalysis
from sightwire.config.models import CameraConfig
from sightwire.config.rules import RuleConfig
from tests.analysis.scenes import Mover, frame, kinds, play, times, tracked

DOCK = [[400, 200], [800, 200], [800, 500], [400, 500]]


def scene(*triggers: dict[str, Any], forget_s: float = 0.5) -> SceneAnalysis:
    camera = CameraConfig(source="dock.mp4", zones={"dock": DOCK})
    rules = [
        RuleConfig.model_validate({"name": f"r{i}", "on": on}) for i, on in enumerate(triggers)
    ]
    return SceneAnalysis("belt-1", camera, rules, forget_s=forget_s)


def test_an_object_crossing_the_zone_enters_then_exits_once() -> None:
    s = scene({"zone": "dock", "event": "enter"}, {"zone": "dock", "event": "exit"})
    walker = Mover(1, start=(300, 350), velocity=(100, 0))  # inside for x in 400..800
    seen = play(s, [walker], times(7))
    assert kinds(seen) == [("enter", 1), ("exit", 1)]
    enter, exit_ = seen
    assert 1.0 <= enter.pts <= 1.1 and enter.zone == "dock" and enter.measurements["appeared"] == 0
    assert 5.0 <= exit_.pts <= 5.1
    assert abs(exit_.measurements["dwell_s"] - 4.0) < 0.15
    assert enter.captured_at - enter.pts == exit_.captured_at - exit_.pts  # the frame's times


def test_the_anchor_decides_where_an_object_is() -> None:
    # A person whose box top is in the zone but whose feet are below it.
    person = Mover(4, start=(600, 520), size=(60, 120), class_name="person")
    centre = scene({"zone": "dock"})
    feet = scene({"zone": "dock", "anchor": "bottom_center"})
    assert kinds(play(centre, [person], times(1))) == []  # centre at y=520: outside
    high = Mover(5, start=(600, 440), size=(60, 120))  # centre in, feet at y=500 (edge)
    assert kinds(play(feet, [high], times(1))) == [("enter", 5)]


def wobble(s: SceneAnalysis) -> list[tuple[str, int | None]]:
    """Outside, a step in, 3 s wobbling 3 px either side of the left edge, then in."""
    xs = [300, 420] + [400 + (3 if i % 2 else -3) for i in range(30)] + [450]
    seen = []
    for i, x in enumerate(xs):
        seen += s.observe(frame(i / 10, i), tracked([Mover(2, start=(x, 350))], i / 10))
    return kinds(seen)


def test_jitter_on_the_edge_does_not_enter_and_exit_repeatedly() -> None:
    s = scene({"zone": "dock", "event": "enter"}, {"zone": "dock", "event": "exit"})
    assert wobble(s) == [("enter", 2)]
    naive = scene(
        {"zone": "dock", "event": "enter", "margin_px": 0},
        {"zone": "dock", "event": "exit", "margin_px": 0},
    )
    assert len(wobble(naive)) > 10  # without the dead band it flickers


def test_a_track_first_seen_inside_enters_as_appeared() -> None:
    s = scene({"zone": "dock"})
    seen = play(s, [Mover(3, start=(600, 350))], times(1))
    assert kinds(seen) == [("enter", 3)]
    assert seen[0].measurements["appeared"] == 1


def test_a_track_lost_inside_exits_after_forget_s() -> None:
    s = scene({"zone": "dock", "event": "exit"}, forget_s=0.5)
    parcel = Mover(6, start=(600, 350))
    seen = play(s, [parcel], times(1))
    seen += play(s, [], times(2, start=1.0))  # gone: picked up inside the zone
    assert kinds(seen) == [("exit", 6)]
    assert seen[0].measurements["lost"] == 1 and 1.4 < seen[0].pts <= 1.6


def test_dwell_fires_once_per_visit_and_again_on_a_new_visit() -> None:
    s = scene({"zone": "dock", "event": "dwell", "seconds": 2})
    stay = Mover(7, start=(600, 350))
    seen = play(s, [stay], times(5))
    assert kinds(seen) == [("dwell", 7)]
    assert 2.0 <= seen[0].measurements["dwell_s"] < 2.1
    away = Mover(7, start=(100, 100))
    play(s, [away], times(0.3, start=5.0))
    again = play(s, [stay], times(3, start=5.3))
    assert kinds(again) == [("dwell", 7)]


def test_dwell_thresholds_are_separate_watches() -> None:
    s = scene(
        {"zone": "dock", "event": "dwell", "seconds": 1},
        {"zone": "dock", "event": "dwell", "seconds": 3},
    )
    seen = play(s, [Mover(8, start=(600, 350))], times(4))
    assert [round(o.measurements["dwell_s"]) for o in seen] == [1, 3]
    assert len({o.watch for o in seen}) == 2


def test_skipped_frames_let_dwell_time_pass() -> None:
    s = scene({"zone": "dock", "event": "dwell", "seconds": 2})
    play(s, [Mover(9, start=(600, 350))], times(0.5))
    seen = [o for i, t in enumerate(times(2, start=0.5)) for o in s.observe(frame(t, i), None)]
    assert kinds(seen) == [("dwell", 9)]


def test_inside_is_observed_every_frame() -> None:
    s = scene({"zone": "dock", "event": "inside"})
    seen = play(s, [Mover(10, start=(600, 350)), Mover(11, start=(100, 100))], times(1))
    assert kinds(seen) == [("inside", 10)] * 10
    assert [o.tick for o in seen] == list(range(10))
