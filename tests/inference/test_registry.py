"""Model registry: versions, aliases, promotion and rollback, recorded and followed live."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from sightwire.inference.live_model import LiveModel, ModelWatcher
from sightwire.inference.registry import ModelRegistry, ModelVersion, RegistryError

from .onnx_fixtures import tiny_detector


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(f"sqlite:///{tmp_path}/db/sightwire.db", tmp_path / "blobs" / "models")


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return [tiny_detector(tmp_path / f"parcels-{i}.onnx", tag=str(i)) for i in (1, 2, 3)]


def test_add_records_what_the_file_says(registry: ModelRegistry, files: list[Path]) -> None:
    v1 = registry.add(files[0], "parcels", actor="ana")
    assert (v1.name, v1.version, v1.task) == ("parcels", "1", "detect")
    assert v1.labels == ["parcel", "label"]  # from the ONNX metadata
    assert v1.input_size == (64, 64)
    assert v1.path.read_bytes() == files[0].read_bytes()
    assert registry.add(files[1], "parcels").version == "2"
    with pytest.raises(RegistryError, match="already registered as parcels@1"):
        registry.add(files[0], "parcels")


def test_broken_file_is_refused(registry: ModelRegistry, tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a loadable ONNX model"):
        registry.add(junk, "junk")
    assert registry.versions("junk") == []


def test_promote_and_rollback_walk_the_history(registry: ModelRegistry, files: list[Path]) -> None:
    for f in files:
        registry.add(f, "parcels")
    with pytest.raises(RegistryError, match="no production version yet"):
        registry.resolve("parcels")
    for version in ("1", "2", "3"):
        registry.promote("parcels", version, actor="ana")
    assert registry.resolve("parcels").version == "3"
    assert registry.resolve("parcels@1").version == "1"  # a pinned version
    assert registry.rollback("parcels", actor="bo").to_version == "2"
    assert registry.rollback("parcels", actor="bo").to_version == "1"
    with pytest.raises(RegistryError, match="no earlier version"):
        registry.rollback("parcels")
    moves = [
        (c.action, c.from_version, c.to_version, c.actor)
        for c in registry.history("parcels")
        if c.action != "add"
    ]
    assert moves == [
        ("promote", None, "1", "ana"),
        ("promote", "1", "2", "ana"),
        ("promote", "2", "3", "ana"),
        ("rollback", "3", "2", "bo"),
        ("rollback", "2", "1", "bo"),
    ]


def test_a_tampered_file_is_not_loaded(registry: ModelRegistry, files: list[Path]) -> None:
    version = registry.add(files[0], "parcels")
    registry.promote("parcels", "1")
    version.path.write_bytes(version.path.read_bytes() + b"\0")
    with pytest.raises(RegistryError, match="no longer matches its sha256"):
        LiveModel(registry, "parcels", load=_session)


def _session(version: ModelVersion) -> ort.InferenceSession:
    return ort.InferenceSession(str(version.path), providers=["CPUExecutionProvider"])


def _tag(session: ort.InferenceSession) -> str:
    return str(session.get_modelmeta().custom_metadata_map["tag"])


def test_running_inference_follows_promote_and_rollback_from_the_cli(
    tmp_path: Path, files: list[Path]
) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(
        f"version: 1\nstore: {{database: 'sqlite:///{tmp_path}/db/sightwire.db', "
        f"blobs: 'file://{tmp_path}/blobs'}}\n"
    )
    cli = [sys.executable, "-m", "sightwire", "models"]

    def sightwire(*args: str) -> str:
        done = subprocess.run(
            [*cli, *args, "--config", str(config)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    sightwire("add", str(files[0]), "--name", "parcels", "--promote")
    sightwire("add", str(files[1]), "--name", "parcels")
    registry = ModelRegistry(f"sqlite:///{tmp_path}/db/sightwire.db", tmp_path / "blobs/models")
    live = LiveModel(registry, "parcels", load=_session)
    watcher = ModelWatcher([live], interval_s=0.05).start()
    seen: list[str] = []
    stop = threading.Event()

    def infer() -> None:  # a pipeline thread that never pauses for the swap
        image = np.zeros((1, 3, 64, 64), np.float32)
        while not stop.is_set():
            session = live.current
            session.run(None, {"images": image})
            if not seen or seen[-1] != _tag(session):
                seen.append(_tag(session))

    worker = threading.Thread(target=infer)
    worker.start()
    try:
        sightwire("promote", "parcels@2")
        _wait_for(lambda: seen[-1] == "2")
        sightwire("rollback", "parcels")
        _wait_for(lambda: seen[-1] == "1")
    finally:
        stop.set()
        worker.join()
        watcher.stop()
    assert seen == ["1", "2", "1"]
    info = json.loads(sightwire("info", "parcels", "--json"))
    assert [(h["action"], h["to"]) for h in info["history"]] == [
        ("add", "1"),
        ("promote", "1"),
        ("add", "2"),
        ("promote", "2"),
        ("rollback", "1"),
    ]
    assert all(h["actor"].startswith("cli") for h in info["history"])


def _wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.01)
