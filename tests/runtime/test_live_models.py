"""Promote and roll back a model while the run loop is processing frames."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sightwire.config import parse_config
from sightwire.inference.registry import ModelRegistry
from sightwire.runtime.runner import Runner
from sightwire.synth import write_static
from tests.inference.onnx_fixtures import tiny_detector


def _until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_a_running_pipeline_follows_promote_and_rollback(tmp_path: Path) -> None:
    clip = tmp_path / "room.mp4"
    write_static(clip, seconds=3, fps=10, size=(160, 120), events=[0.5], seed=2)
    text = (
        f"version: 1\n"
        f"store: {{database: 'sqlite:///{tmp_path}/sightwire.db', blobs: 'file://{tmp_path}/blobs'}}\n"
        f"models:\n  parcels: {{confidence: 0.1}}\n"
        f"cameras:\n  room:\n    source: {clip}\n    realtime: true\n    loop: true\n"
        f"    analyse:\n      - detect: {{model: parcels}}\n"
    )
    config_file = tmp_path / "site.yaml"
    config_file.write_text(text)
    registry = ModelRegistry(f"sqlite:///{tmp_path}/sightwire.db", tmp_path / "blobs/models")
    for i in (1, 2):
        registry.add(tiny_detector(tmp_path / f"m{i}.onnx", tag=str(i)), "parcels")
    registry.promote("parcels", "1")

    runner = Runner(parse_config(text, str(config_file)))
    runner.models.watch_interval_s = 0.05
    runner.start()
    try:
        detector = runner.models.detector("parcels")
        stats = runner.stats["room"]
        _until(lambda: stats.processed > 3)
        assert detector.version == "1"

        def models(*args: str) -> None:
            subprocess.run(
                [sys.executable, "-m", "sightwire", "models", *args, "--config", str(config_file)],
                check=True,
                capture_output=True,
                timeout=60,
            )

        models("promote", "parcels@2")
        _until(lambda: detector.version == "2")
        seen = stats.processed
        _until(lambda: stats.processed > seen + 3)  # frames still flow after the swap
        models("rollback", "parcels")
        _until(lambda: detector.version == "1")
        assert runner.failed == {}
    finally:
        runner.stop()
