"""`sightwire validate` reports rule problems with the YAML line and the rule's path."""

from __future__ import annotations

import textwrap

import pytest

from sightwire.config import ConfigError, parse_config

BASE = textwrap.dedent(
    """\
    version: 1
    cameras:
      belt-1:
        source: belt.mp4
        zones: {belt: [[0,120],[1280,120],[1280,600],[0,600]]}
        lines: {exit: [[1180,0],[1180,720]]}
        analyse:
          - track: {}
      shelf-cam:
        source: shelf.mp4
        zones: {shelf: [[0,0],[640,0],[640,360],[0,360]]}
    lookups:
      manifest: {url: "http://wms/parcels/{tracking_number}", cache_s: 60}
    rules:
    """
)


def problems(rules: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + textwrap.indent(textwrap.dedent(rules), "  "), "cfg.yaml", {})
    return [str(i) for i in info.value.issues]


def test_every_kind_of_trigger_validates() -> None:
    config = parse_config(
        BASE
        + textwrap.indent(
            textwrap.dedent(
                """\
                - {name: a, on: {line: exit, class: parcel, direction: out}, lookup: manifest,
                   when: "abs(object.length_mm - manifest.length_mm) > 10"}
                - {name: b, on: {zone: belt, event: exit, anchor: bottom_center}}
                - {name: c, on: {zone: belt, event: dwell, seconds: 30}}
                - {name: d, on: {zone: belt, event: inside}, debounce: 3, min_duration_s: 2}
                - {name: e, on: {zone: shelf, event: count, class: bottle},
                   when: "observation.count < 3", min_duration_s: 10}
                - {name: f, on: {zone: shelf, event: count_change, frames: 5}}
                - {name: g, on: {zone: shelf, event: absent, class: bottle, seconds: 60}}
                - {name: h, on: {event: anomaly, frame_score: anomaly, above: 0.8, frames: 3,
                                 window: 5}, attributes: {score: "{observation.score}"}}
                """
            ),
            "  ",
        ),
        "cfg.yaml",
        {},
    )
    assert [r.on.kind for r in config.rules] == [
        "cross",
        "exit",
        "dwell",
        "inside",
        "count",
        "count_change",
        "absent",
        "anomaly",
    ]


def test_bad_cel_is_reported_at_its_line() -> None:
    assert problems(
        """\
        - name: a
          on: {line: exit}
          when: "object.length_mm >"
        - name: b
          on: {line: exit}
          attributes: {x: "{__import__('os')}"}
        """
    ) == [
        "cfg.yaml:17: rules[0].when: syntax: object.length_mm > "
        "(column 19: the expression ends too early, expecting a value)",
        "cfg.yaml:20: rules[1].attributes.x: unknown function '__import__'",
    ]


def test_a_lookup_answer_needs_its_lookup() -> None:
    assert problems("- {name: a, on: {line: exit}, when: 'manifest.length_mm > 1'}\n") == [
        "cfg.yaml:15: rules[0].when: unknown name 'manifest' (known here: camera, line, "
        "lookup_error, object, objects, observation, zone); to use a lookup's answer, "
        "name it with lookup:"
    ]


def test_triggers_that_cannot_happen() -> None:
    assert problems(
        """\
        - {name: a, on: {zone: shelf, event: enter}}
        - {name: b, on: {zone: belt, event: still, seconds: 5}}
        - {name: c, on: {line: exit, camera: shelf-cam}}
        - {name: d, on: {line: exit, camera: belt-9}}
        - {name: e, on: {line: exit}, debounce: 2}
        """
    ) == [
        "cfg.yaml:15: rules[0].on: enter needs tracked objects: add '- track: {}' to the "
        "analyse list of camera shelf-cam",
        "cfg.yaml:16: rules[1].on: still needs a motion gate: add 'motion: {}' to camera belt-1",
        "cfg.yaml:17: rules[2].on.line: camera shelf-cam has no line 'exit'",
        "cfg.yaml:18: rules[3].on.camera: no camera named 'belt-9' under cameras",
        "cfg.yaml:19: rules[4].debounce: debounce applies to events observed every frame "
        "(count, inside); cross happens once: use cooldown_s against repeats",
    ]


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ("{zone: belt, line: exit}", "give a zone or a line, not both"),
        ("{event: cross}", "cross needs a line"),
        ("{zone: belt, event: dwell}", "dwell needs seconds"),
        ("{zone: belt, event: enter, seconds: 3}", "enter takes no seconds"),
        ("{zone: belt, direction: out}", "direction applies to line crossings only"),
        (
            "{event: anomaly, above: 0.5}",
            "anomaly needs one of score (object column) or frame_score",
        ),
        (
            "{event: anomaly, score: s, above: 0.5, frames: 4, window: 3}",
            "frames (N) must not exceed",
        ),
        ("{line: exit, event: enter}", "a line has crossings, not enter"),
    ],
)
def test_inconsistent_triggers(trigger: str, message: str) -> None:
    (problem,) = problems(f"- {{name: a, on: {trigger}}}\n")
    assert problem.startswith("cfg.yaml:15: rules[0].on: ") and message in problem


def test_lookup_names_and_urls() -> None:
    text = BASE.replace(
        'manifest: {url: "http://wms/parcels/{tracking_number}", cache_s: 60}',
        'object: {url: "http://wms/{a b}"}',
    ).replace("rules:\n", "rules: []\n")
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cfg.yaml", {})
    assert [str(i) for i in info.value.issues] == [
        "cfg.yaml:13: lookups.object: 'object' is a variable of every rule; choose another name",
        "cfg.yaml:13: lookups.object.url: {a b} is not a field name (or names joined by |)",
    ]
