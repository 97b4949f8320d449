"""Rewriting a camera's zones and lines in the config file: comments and the rest kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from sightwire.config.loader import ConfigError, load_config
from sightwire.web.config_edit import ConfigEditError, rewrite_shapes, splice_shapes

SITE = """\
# Site header comment
version: 1
site: s1
cameras:
  belt-1:  # the belt camera
    source: "${BELT_SOURCE:-belt.mp4}"
    zones:
      belt: [[0, 0], [10, 0], [10, 10]]  # old zone
    fps: 5  # sampled
    analyse: [{track: {}}]
  dock-2: {source: dock.mp4}
  yard: {}
rules:
  - name: in.belt
    on: {zone: belt}
"""
VALID = SITE.replace("  yard: {}", "  yard: {source: yard.mp4}")
SQUARE = [(0.0, 0.0), (100.0, 0.0), (100.0, 50.5), (0.0, 50.0)]


def test_a_block_value_is_replaced_and_every_other_line_kept() -> None:
    text = splice_shapes(SITE, "belt-1", {"belt": SQUARE}, {})
    zones = "    zones: {belt: [[0, 0], [100, 0], [100, 50.5], [0, 50]]}\n    fps: 5  # sampled"
    assert zones in text
    kept = [line for line in SITE.splitlines() if "old zone" not in line and "zones:" not in line]
    assert all(line in text.splitlines() for line in kept)
    assert "${BELT_SOURCE:-belt.mp4}" in text  # variables are not expanded into the file


def test_shapes_are_added_to_a_flow_mapping_and_to_an_empty_one() -> None:
    text = splice_shapes(SITE, "dock-2", {}, {"exit": [(5, 0), (5, 9)]})
    assert "  dock-2: {lines: {exit: [[5, 0], [5, 9]]}, source: dock.mp4}" in text
    text = splice_shapes(SITE, "yard", {"gate": SQUARE[:3]}, {})
    assert "  yard: {zones: {gate: [[0, 0], [100, 0], [100, 50.5]]}}" in text


def test_emptying_the_shapes_leaves_an_empty_mapping() -> None:
    text = splice_shapes(SITE, "belt-1", {}, {})
    assert "    zones: {}\n" in text


def test_an_unknown_camera_is_refused() -> None:
    with pytest.raises(ConfigEditError):
        splice_shapes(SITE, "nowhere", {"a": SQUARE}, {})


def test_rewrite_validates_first_and_leaves_the_file_alone_when_invalid(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(VALID)
    with pytest.raises(ConfigError) as refused:
        rewrite_shapes(path, "belt-1", {"dock": SQUARE}, {})  # rule in.belt needs zone belt
    assert "no camera has a zone named 'belt'" in str(refused.value)
    assert path.read_text() == VALID
    rewrite_shapes(path, "belt-1", {"belt": SQUARE, "dock": SQUARE}, {})
    loaded = load_config(path)
    assert set(loaded.cameras["belt-1"].zones) == {"belt", "dock"}
    assert [p.name for p in tmp_path.iterdir()] == ["site.yaml"]  # no temporary file left


def test_shapes_that_come_from_an_anchor_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(
        "shared: &zones {belt: [[0, 0], [1, 0], [1, 1]]}\n"
        "cameras:\n  c1:\n    source: a.mp4\n    <<: {zones: *zones}\n"
    )
    with pytest.raises((ConfigEditError, ConfigError)):
        rewrite_shapes(path, "c1", {"belt": SQUARE}, {})
