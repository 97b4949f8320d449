"""``sightwire run`` as a user runs it: a real process, real signals, real logs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sightwire.synth import write_static

SIGHTWIRE = [sys.executable, "-m", "sightwire"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "room.mp4"
    write_static(path, seconds=5, fps=10, size=(320, 240), events=[2.0], seed=5)
    return path


def _config(tmp_path: Path, clip: Path, extra: str = "") -> Path:
    config = tmp_path / "site.yaml"
    config.write_text(
        f"version: 1\ncameras:\n  room:\n    source: {clip}\n    fps: 5\n{extra}    motion: {{}}\n"
    )
    return config


def test_json_logs_are_one_line_per_state_change(tmp_path: Path, clip: Path) -> None:
    config = _config(tmp_path, clip)
    done = subprocess.run(
        [*SIGHTWIRE, "--log-format", "json", "run", str(config), "--until-end", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    logs = [json.loads(line) for line in done.stderr.splitlines()]
    states = [entry["state"] for entry in logs if entry.get("camera") == "room"]
    assert states == ["connecting", "streaming", "ended"]
    assert len(logs) == 3  # never a line per frame
    summary = json.loads(done.stdout)
    assert summary["cameras"][0]["processed"] == 25


def test_source_override_replaces_a_cameras_input(tmp_path: Path, clip: Path) -> None:
    config = _config(tmp_path, tmp_path / "not-there.mp4")
    done = subprocess.run(
        [*SIGHTWIRE, "run", str(config), "--source", f"room={clip}", "--until-end", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(done.stdout)["cameras"][0]["processed"] == 25
    unknown = subprocess.run(
        [*SIGHTWIRE, "run", str(config), "--source", f"nope={clip}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2
    assert "no camera 'nope' (cameras: room)" in unknown.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_run_within_two_seconds(
    tmp_path: Path, clip: Path, signum: signal.Signals
) -> None:
    # A looping, real-time file behaves as a live camera: the run never ends by itself.
    config = _config(tmp_path, clip, extra="    realtime: true\n    loop: true\n")
    process = subprocess.Popen(
        [*SIGHTWIRE, "--log-format", "json", "run", str(config), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # wait, without sleeping, until frames flow
            if json.loads(line).get("state") == "streaming":
                break
        else:
            pytest.fail("the camera never started streaming")
        sent = time.monotonic()
        process.send_signal(signum)
        out, _ = process.communicate(timeout=10)
        took = time.monotonic() - sent
    finally:
        process.kill()
    assert process.returncode == 0
    assert took < 2.0, f"took {took:.2f} s to stop"
    assert json.loads(out)["cameras"][0]["state"] in ("streaming", "ended")
