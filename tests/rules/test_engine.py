"""The rule engine: events, false-positive controls, condition errors, config errors."""

from __future__ import annotations

import asyncio

import pytest

from sightwire.analysis import Observation, ObservedObject
from sightwire.config.models import CameraConfig
from sightwire.core.event import ModelRef
from sightwire.rules import RuleConfigError, RuleEngine
from tests.analysis.scenes import EPOCH, Mover, times
from tests.rules.flow import Clock, rules, run, steps

CAMERA = CameraConfig(
    source="dock.mp4",
    zones={"dock": [[400, 200], [800, 200], [800, 500], [400, 500]]},
    lines={"exit": [[1180, 0], [1180, 720]]},
)


def test_an_event_carries_what_was_seen() -> None:
    parcel = Mover(
        7, (1100, 300), (200, 0), size=(100, 60), confidence=0.8, data={"barcode": "1Z999"}
    )
    clock = Clock()
    engine = RuleEngine(
        rules(
            {
                "name": "parcel.out",
                "on": {"line": "exit"},
                "severity": "warning",
                "actions": ["route_to_qc", "notify"],
            }
        ),
        clock=clock,
        site="dc-berlin",
        models={"belt-1": ModelRef(name="parcels", version="3")},
    )
    outcomes, _ = run(CAMERA, [], steps(lambda i, t: [parcel], times(1)), engine=engine)
    (outcome,) = outcomes
    event = outcome.event
    assert event.type == "com.sightwire.parcel.out"
    assert event.source == "sightwire://dc-berlin/cameras/belt-1"
    data = event.data
    assert data.rule == "parcel.out" and data.camera == "belt-1" and data.severity == "warning"
    assert data.captured_at == EPOCH + outcome.observation.pts  # the frame's capture time
    assert data.latency_ms == pytest.approx(50.0, abs=1)  # the flow emits 50 ms after capture
    assert data.model == ModelRef(name="parcels", version="3")
    (obj,) = data.objects
    assert (obj.class_name, obj.track_id) == ("parcel", 7)
    assert obj.confidence == pytest.approx(0.8)
    assert obj.box[2] - obj.box[0] == pytest.approx(100)
    assert data.attributes["barcode"] == "1Z999"
    assert data.attributes["direction"] == "out" and data.attributes["line"] == "exit"
    assert outcome.actions == ("route_to_qc", "notify")
    event.model_dump_json()  # JSON-safe


def flicker(i: int, t: float) -> list[Mover]:
    """A detection in the dock that is there one frame in two (a new track each time,
    as a tracker confirming with min_hits=1 would give)."""
    return [Mover(100 + i, (600, 350))] if i % 2 == 0 else []


def steady(i: int, t: float) -> list[Mover]:
    return [Mover(1, (600, 350))]


def test_debounce_ignores_a_flickering_detection() -> None:
    rule = {"on": {"zone": "dock", "event": "inside"}, "debounce": 3}
    flickering, _ = run(CAMERA, rules(rule), steps(flicker, times(3)))
    assert flickering == []
    held, _ = run(CAMERA, rules(rule), steps(steady, times(3)))
    assert len(held) == 1 and round(held[0].observation.pts, 1) == 0.2  # the 3rd frame


def test_min_duration_needs_the_condition_to_last() -> None:
    rule = {"on": {"zone": "dock", "event": "inside"}, "min_duration_s": 1.5}
    held, _ = run(CAMERA, rules(rule), steps(steady, times(3)))
    assert [round(o.observation.pts, 1) for o in held] == [1.5]


def test_a_level_rule_fires_once_per_spell() -> None:
    def comes_and_goes(i: int, t: float) -> list[Mover]:
        return [Mover(1, (600, 350))] if i < 10 or i >= 20 else []

    rule = {"on": {"zone": "dock", "event": "inside"}, "debounce": 2}
    outcomes, _ = run(CAMERA, rules(rule), steps(comes_and_goes, times(3)))
    assert [round(o.observation.pts, 1) for o in outcomes] == [0.1, 2.1]


def test_zone_cooldown_stops_flicker_spamming_enters() -> None:
    spam, _ = run(CAMERA, rules({"on": {"zone": "dock"}}), steps(flicker, times(3)))
    assert len(spam) == 15  # every flicker is a new track entering
    calm, engine = run(
        CAMERA, rules({"on": {"zone": "dock"}, "zone_cooldown_s": 10}), steps(flicker, times(3))
    )
    assert len(calm) == 1
    assert engine.stats["r0"].cooling == 14


def test_object_cooldown_is_per_object() -> None:
    two = [Mover(1, (500, 300)), Mover(2, (700, 400))]
    outcomes, _ = run(
        CAMERA,
        rules({"on": {"zone": "dock", "event": "inside"}, "cooldown_s": 1}),
        steps(lambda i, t: two, times(2.5)),
    )
    fired = [(round(o.observation.pts, 1), o.event.data.objects[0].track_id) for o in outcomes]
    # once per spell: the condition held throughout, so each object fires once
    assert fired == [(0.0, 1), (0.0, 2)]


def test_cooldown_spaces_repeated_spells_of_one_object() -> None:
    def blinking(i: int, t: float) -> list[Mover]:
        return [Mover(1, (600, 350))] if i % 5 != 4 else []  # gone one frame in five

    loose, _ = run(
        CAMERA, rules({"on": {"zone": "dock", "event": "inside"}}), steps(blinking, times(4))
    )
    spaced, _ = run(
        CAMERA,
        rules({"on": {"zone": "dock", "event": "inside"}, "cooldown_s": 2}),
        steps(blinking, times(4)),
    )
    assert len(loose) == 8
    assert [round(o.observation.pts, 1) for o in spaced] == [0.0, 2.0]


def test_confidence_and_area_floors() -> None:
    small = Mover(1, (1100, 300), (200, 0), size=(10, 10))
    unsure = Mover(2, (1100, 400), (200, 0), confidence=0.3)
    good = Mover(3, (1100, 500), (200, 0))
    outcomes, _ = run(
        CAMERA,
        rules({"on": {"line": "exit"}, "min_confidence": 0.5, "min_area": 400}),
        steps(lambda i, t: [small, unsure, good], times(1)),
    )
    assert [o.event.data.objects[0].track_id for o in outcomes] == [3]


def test_a_condition_failing_on_the_object_does_not_fire_and_is_counted() -> None:
    outcomes, engine = run(
        CAMERA,
        rules({"on": {"line": "exit"}, "when": "object.weight_kg > 10"}),
        steps(lambda i, t: [Mover(1, (1100, 300), (200, 0))], times(1)),
    )
    assert outcomes == []
    stats = engine.stats["r0"]
    assert stats.condition_errors == 1 and stats.fired == 0
    assert "weight_kg" in (stats.last_condition_error or "")


def test_attribute_errors_become_null() -> None:
    outcomes, _ = run(
        CAMERA,
        rules({"on": {"line": "exit"}, "attributes": {"weight": "{object.weight_kg}", "n": 3}}),
        steps(lambda i, t: [Mover(1, (1100, 300), (200, 0))], times(1)),
    )
    assert outcomes[0].event.data.attributes["weight"] is None
    assert outcomes[0].event.data.attributes["n"] == 3


def test_a_looped_stream_starts_its_cooldowns_afresh() -> None:
    engine = RuleEngine(rules({"on": {"zone": "dock", "event": "inside"}, "cooldown_s": 60}))
    parcel = ObservedObject("parcel", (500, 300, 600, 400), 0.9, 1)
    watch = engine.triggers[0].watch

    def seen(pts: float, tick: int) -> Observation:
        return Observation(
            "inside", "belt-1", watch, EPOCH + pts, pts, tick, zone="dock", object=parcel
        )

    async def flow() -> list[int]:
        first = await engine.evaluate([seen(10.0, 0)])
        held = await engine.evaluate([seen(30.0, 5)])  # a new spell, but cooling
        looped = await engine.evaluate([seen(0.0, 7)])  # the file started again
        return [len(first), len(held), len(looped)]

    assert asyncio.run(flow()) == [1, 0, 1]


def test_a_camera_forgotten_fires_for_a_new_object_with_an_old_track_id() -> None:
    # A worker taking a camera over numbers tracks afresh: track 1 is another parcel.
    engine = RuleEngine(rules({"on": {"zone": "dock", "event": "inside"}, "cooldown_s": 60}))
    watch = engine.triggers[0].watch

    def seen(camera: str, pts: float, tick: int) -> Observation:
        parcel = ObservedObject("parcel", (500, 300, 600, 400), 0.9, 1)
        return Observation("inside", camera, watch, EPOCH + pts, pts, tick, zone="dock",
                           object=parcel)  # fmt: skip

    async def flow() -> list[int]:
        first = await engine.evaluate([seen("belt-1", 10.0, 0), seen("belt-2", 10.0, 0)])
        engine.forget("belt-1")
        again = await engine.evaluate([seen("belt-1", 20.0, 3)])  # a new object, track 1
        other = await engine.evaluate([seen("belt-2", 20.0, 3)])  # still cooling
        return [len(first), len(again), len(other)]

    assert asyncio.run(flow()) == [2, 1, 0]


def test_rule_problems_are_listed_with_their_paths() -> None:
    with pytest.raises(RuleConfigError) as info:
        RuleEngine(
            rules(
                {"on": {"line": "exit"}, "when": "object.length_mm >"},
                {"on": {"line": "exit"}, "lookup": "wms"},
                {"on": {"line": "exit"}, "debounce": 3},
                {"on": {"line": "exit"}, "attributes": {"x": "{parcel.id}"}},
            )
        )
    assert str(info.value).splitlines() == [
        "rules[0].when: syntax: object.length_mm > "
        "(column 19: the expression ends too early, expecting a value)",
        "rules[1].lookup: no lookup named 'wms' under lookups",
        "rules[2].debounce: debounce applies to events observed every frame (count, inside); "
        "cross happens once: use cooldown_s against repeats",
        "rules[3].attributes.x: unknown name 'parcel' (known here: camera, line, lookup_error, "
        "object, objects, observation, zone); to use a lookup's answer, name it with lookup:",
    ]


def test_rules_reading_different_fields_of_one_object_each_see_theirs() -> None:
    """The rules of one observation share its CEL variables, trimmed to the fields
    read: a rule that reads more of the object, or all of it, must still see it."""
    parcel = Mover(
        1, (1100, 300), (200, 0), data={"barcode": "1Z9", "length_mm": 700.0, "weight_kg": 3.0}
    )
    outcomes, engine = run(
        CAMERA,
        rules(
            {"on": {"line": "exit"}, "when": "object.length_mm > 600.0"},
            {"on": {"line": "exit"}, "when": "object.barcode == '1Z9' && object.weight_kg < 5.0"},
            {"on": {"line": "exit"}, "when": "'weight_kg' in object && size(object) >= 9"},
            {
                "on": {"line": "exit"},
                "when": "object.length_mm > 600.0",
                "attributes": {"label": "{object.barcode}-{object.class_name}"},
            },
        ),
        steps(lambda i, t: [parcel], times(1)),
    )
    assert sorted(o.rule for o in outcomes) == ["r0", "r1", "r2", "r3"]
    assert all(s.condition_errors == 0 for s in engine.stats.values())
    (labelled,) = [o for o in outcomes if o.rule == "r3"]
    assert labelled.event.data.attributes["label"] == "1Z9-parcel"
