"""Config loading: DESIGN.md's sketch is valid; every error carries its YAML line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sightwire.config import ConfigError, load_config, parse_config

SKETCH = textwrap.dedent(
    """\
    version: 1
    site: dc-berlin
    store: {database: "sqlite:///data/sightwire.db", blobs: "file://data/blobs"}
    models:
      parcels: {path: models/parcels.onnx, task: detect, confidence: 0.4}
    cameras:
      belt-1:
        source: rtsp://10.0.0.5/stream1
        fps: 5
        privacy: {faces: blur}
        zones: {belt: [[0,120],[1280,120],[1280,600],[0,600]]}
        lines: {exit: [[1180,0],[1180,720]]}
        analyse:
          - detect: {model: parcels}
          - track: {}
          - barcode: {within: parcel}
          - ocr: {within: parcel, pattern: "1Z[0-9A-Z]{16}"}
          - measure: {within: parcel, mm_per_pixel: 1.5}
    lookups:
      manifest: {url: "${WMS_URL}/parcels/{tracking_number}", cache_s: 60}
    rules:
      - name: parcel.mismatch
        on: {line: exit, class: parcel}
        lookup: manifest
        when: "abs(object.length_mm - manifest.length_mm) / manifest.length_mm > 0.05"
        actions: [route_to_qc]
    actions:
      route_to_qc: {type: http, method: POST, url: "${WMS_URL}/parcels/{tracking_number}/route",
                    body: {station: QC, event_id: "{event.id}"}}
    webhooks:
      - {url: "${ERP_HOOK_URL}", secret: "${ERP_HOOK_SECRET}", types: ["com.sightwire.*"]}
    """
)
ENV = {
    "WMS_URL": "http://wms.local",
    "ERP_HOOK_URL": "http://erp/hook",
    "ERP_HOOK_SECRET": "whsec_c2lnaHR3aXJlLXRlc3Qtc2VjcmV0LTMyYnl0ZXMh",
}


def test_design_sketch_is_valid_and_expands_variables() -> None:
    config = parse_config(SKETCH, "sketch.yaml", ENV)
    assert config.cameras["belt-1"].fps == 5
    assert config.lookups["manifest"].url == "http://wms.local/parcels/{tracking_number}"
    assert config.webhooks[0].secrets()[0].get_secret_value() == ENV["ERP_HOOK_SECRET"]
    assert config.rules[0].on.class_name == "parcel"
    steps = [type(s).__name__ for s in config.cameras["belt-1"].analyse]
    assert steps == ["DetectStep", "TrackStep", "BarcodeStep", "OcrStep", "MeasureStep"]


def _errors(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "cfg.yaml", ENV if env is None else env)
    return [str(i) for i in info.value.issues]


def test_all_errors_are_reported_at_once_with_yaml_lines() -> None:
    broken = (
        SKETCH.replace("fps: 5", "fps: -5")
        .replace("confidence: 0.4", "confidence: 4")
        .replace("- track: {}", "- trak: {}")
        .replace("method: POST", "method: FETCH")
        .replace("privacy: {faces: blur}", "privacy: {faces: blur, eyes: blur}")
    )
    errors = _errors(broken)
    assert errors == [
        "cfg.yaml:5: models.parcels.confidence: Input should be less than or equal to 1",
        "cfg.yaml:9: cameras.belt-1.fps: Input should be greater than 0",
        "cfg.yaml:10: cameras.belt-1.privacy.eyes: unknown setting (check the spelling; "
        "`sightwire config schema` lists them all)",
        "cfg.yaml:15: cameras.belt-1.analyse[1]: "
        "expected one of: detect, track, barcode, ocr, measure, weigh",
        "cfg.yaml:28: actions.route_to_qc.method: "
        "Input should be 'GET', 'POST', 'PUT', 'PATCH' or 'DELETE'",
    ]


def test_missing_field_points_at_its_parent() -> None:
    errors = _errors("version: 1\ncameras:\n  cam:\n    fps: 5\n")
    assert errors == ["cfg.yaml:4: cameras.cam.source: required setting is missing"]


def test_missing_environment_variable_is_named_with_its_line() -> None:
    env = {k: v for k, v in ENV.items() if k != "ERP_HOOK_SECRET"}
    errors = _errors(SKETCH, env)
    assert errors == [
        "cfg.yaml:31: webhooks[0].secret: environment variable ERP_HOOK_SECRET is not set"
    ]


def test_default_in_variable_is_used_when_unset() -> None:
    config = parse_config("site: ${SITE:-plant-7}\n", "cfg.yaml", {})
    assert config.site == "plant-7"


def test_dangling_references_are_errors() -> None:
    broken = (
        SKETCH.replace("lookup: manifest", "lookup: manifset")
        .replace("actions: [route_to_qc]", "actions: [route_to_qa]")
        .replace("{line: exit, class: parcel}", "{line: exitt, class: parcel}")
    )
    errors = _errors(broken)
    assert errors == [
        "cfg.yaml:23: rules[0].on.line: no camera has a line named 'exitt'",
        "cfg.yaml:24: rules[0].lookup: no lookup named 'manifset' under lookups",
        "cfg.yaml:26: rules[0].actions[0]: no action named 'route_to_qa' under actions",
    ]


def test_yaml_syntax_error_has_a_line() -> None:
    errors = _errors("version: 1\ncameras:\n  cam: {source: a.mp4\n  other: 1\n")
    assert len(errors) == 1
    assert errors[0].startswith("cfg.yaml:4: YAML syntax:")


def test_duplicate_keys_are_refused() -> None:
    errors = _errors("version: 1\nsite: a\nsite: b\n")
    assert errors == ["cfg.yaml:3: site: duplicate key (an earlier one would be lost)"]


def test_unreadable_and_non_text_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(binary)


def test_top_level_must_be_a_mapping() -> None:
    assert _errors("- a\n- b\n") == ["cfg.yaml:1: the config must be a mapping of settings"]


def test_a_camera_may_only_use_declared_models() -> None:
    text = (
        "version: 1\n"
        "models:\n"
        "  parcels: {confidence: 0.3}\n"
        "cameras:\n"
        "  belt:\n"
        "    source: belt.mp4\n"
        "    analyse:\n"
        "      - detect: {model: parcels@3}\n"
        "      - detect: {model: pallets}\n"
    )
    errors = _errors(text)
    assert errors == [
        "cfg.yaml:9: cameras.belt.analyse[1].detect.model: no model named 'pallets' under "
        "models (declare registry models there without a path)"
    ]


def test_a_reading_step_may_only_name_a_zone_of_its_own_camera() -> None:
    text = (
        "version: 1\n"
        "cameras:\n"
        "  belt:\n"
        "    source: belt.mp4\n"
        "    zones: {label: [[0, 0], [10, 0], [10, 10]]}\n"
        "    analyse:\n"
        "      - barcode: {zone: label}\n"
        "      - ocr: {zone: lable}\n"
        "  dock:\n"
        "    source: dock.mp4\n"
        "    analyse:\n"
        "      - barcode: {zone: label}\n"  # the belt's, not the dock's
    )
    assert _errors(text) == [
        "cfg.yaml:8: cameras.belt.analyse[1].ocr.zone: camera 'belt' has no zone named 'lable'",
        "cfg.yaml:12: cameras.dock.analyse[0].barcode.zone: camera 'dock' has no zone named "
        "'label'",
    ]
