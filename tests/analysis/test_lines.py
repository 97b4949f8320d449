"""Lines: one crossing per track, with its direction; jitter and near misses don't count."""

from __future__ import annotations

from typing import Any

from sightwire.analysis import Observation, SceneAnalysis
from sightwire.config.models import CameraConfig
from sightwire.config.rules import RuleConfig
from tests.analysis.scenes import Mover, frame, play, times, tracked

EXIT = [[1180, 0], [1180, 720]]  # DESIGN.md's belt exit, drawn top to bottom
DOOR = [[200, 400], [600, 400]]  # a doorway, drawn left to right


def scene(margin_px: float = 5.0, **on: Any) -> SceneAnalysis:
    camera = CameraConfig(source="belt.mp4", lines={"exit": EXIT, "door": DOOR})
    trigger = {"line": "exit", "margin_px": margin_px, **on}
    return SceneAnalysis(
        "belt-1", camera, [RuleConfig.model_validate({"name": "r", "on": trigger})]
    )


def crossings(seen: list[Observation]) -> list[tuple[int | None, str | None, str | None]]:
    return [(o.object.track_id if o.object else None, o.direction, o.sense) for o in seen]


def test_parcels_leaving_the_belt_cross_out_left_to_right() -> None:
    parcels = [Mover(1, (1000, 300), (100, 0)), Mover(2, (1300, 500), (-100, 0))]
    seen = play(scene(), parcels, times(3))
    assert crossings(seen) == [(2, "in", "right_to_left"), (1, "out", "left_to_right")]
    assert {o.line for o in seen} == {"exit"} and {o.kind for o in seen} == {"cross"}


def test_a_horizontal_line_crosses_top_to_bottom() -> None:
    person = Mover(3, (400, 300), (0, 100), class_name="person")
    seen = play(scene(line="door"), [person], times(2))
    assert crossings(seen) == [(3, "in", "top_to_bottom")]


def test_once_per_track_even_if_it_comes_back() -> None:
    seen = []
    for i, x in enumerate([1100, 1150, 1210, 1250, 1150, 1100, 1250]):  # out, back in, out
        seen += scene_once.observe(frame(i / 10, i), tracked([Mover(4, (x, 300))], i / 10))
    assert crossings(seen) == [(4, "out", "left_to_right")]


scene_once = scene()


def test_an_object_jittering_on_the_line_does_not_fire() -> None:
    s = scene()
    seen = []
    for i in range(40):  # 3 px either side of the line, for 4 s
        x = 1180 + (3 if i % 2 else -3)
        seen += s.observe(frame(i / 10, i), tracked([Mover(5, (x, 300))], i / 10))
    assert seen == []
    naive = scene(margin_px=0)
    seen = [
        o
        for i in range(40)
        for o in naive.observe(
            frame(i / 10, i), tracked([Mover(5, (1180 + (3 if i % 2 else -3), 300))], i / 10)
        )
    ]
    assert len(seen) == 1  # without the dead band the first wobble counts as a crossing


def test_passing_beside_the_segment_is_no_crossing() -> None:
    short = CameraConfig(source="belt.mp4", lines={"gate": [[600, 100], [600, 300]]})
    s = SceneAnalysis(
        "belt-1", short, [RuleConfig.model_validate({"name": "r", "on": {"line": "gate"}})]
    )
    below = Mover(6, (500, 500), (100, 0))  # crosses x=600 at y=500, below the segment's end
    above = Mover(7, (500, 200), (100, 0))
    assert crossings(play(s, [below, above], times(2))) == [(7, "out", "left_to_right")]


def test_skipped_frames_cross_nothing() -> None:
    s = scene()
    s.observe(frame(0.0), tracked([Mover(8, (1100, 300))], 0.0))
    assert s.observe(frame(0.1), None) == []
    seen = s.observe(frame(0.2), tracked([Mover(8, (1250, 300))], 0.2))
    assert crossings(seen) == [(8, "out", "left_to_right")]
