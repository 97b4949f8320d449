"""``sightwire validate`` and ``sightwire config schema``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SIGHTWIRE = [sys.executable, "-m", "sightwire"]


def _sightwire(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SIGHTWIRE, *args], capture_output=True, text=True, timeout=60)


def test_validate_accepts_the_quickstart_example() -> None:
    done = _sightwire("validate", str(ROOT / "examples/quickstart.yaml"))
    assert done.returncode == 0, done.stderr
    assert "valid (1 camera(s), 0 rule(s))" in done.stdout


def test_validate_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text(
        "version: 1\n"
        "cameras:\n"
        "  gate:\n"
        "    source: rtsp://10.0.0.9/live\n"
        "    fps: 0\n"
        "    rtsp_transport: quic\n"
    )
    done = _sightwire("validate", str(config))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == f"{config}:5: cameras.gate.fps: Input should be greater than 0"
    assert lines[1] == f"{config}:6: cameras.gate.rtsp_transport: Input should be 'tcp' or 'udp'"
    assert lines[2] == f"2 problem(s) in {config}"
    as_json = json.loads(_sightwire("validate", str(config), "--json").stdout)
    assert [i["line"] for i in as_json["issues"]] == [5, 6]


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    done = _sightwire("config", "schema")
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_schema_accepts_the_example_and_rejects_mistakes(schema: dict[str, object]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    example = yaml.safe_load((ROOT / "examples/quickstart.yaml").read_text())
    assert list(validator.iter_errors(example)) == []
    example["cameras"]["belt-1"]["fsp"] = 5  # a typo an editor should flag
    errors = list(validator.iter_errors(example))
    assert errors and "fsp" in errors[0].message
