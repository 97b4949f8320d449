"""``sightwire serve`` stopped by Ctrl-C while an event stream is open: the stream
ends cleanly, the process exits 0, and nothing is logged as an error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sightwire.config.models import StoreConfig
from sightwire.events.store import EventStore
from sightwire.security.keys import ApiKeyStore
from sightwire.security.principal import Role
from tests.api.test_serve_command import _free_port


def _viewer_key(tmp_path: Path) -> str:
    store = EventStore.open(
        StoreConfig(database=f"sqlite:///{tmp_path}/s.db", blobs=f"file://{tmp_path}/blobs")
    )
    try:
        return ApiKeyStore(store.db).create("watcher", Role.VIEWER, None, "test").secret
    finally:
        store.db.close()


def _wait_until_up(process: subprocess.Popen[str], url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()[0]
        try:
            httpx.get(f"{url}/healthz", timeout=2)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "sightwire serve did not start"
            time.sleep(0.1)  # polling the port: the process offers nothing to wait on


def test_ctrl_c_ends_open_event_streams_cleanly(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(
        "version: 1\n"
        f"store: {{database: 'sqlite:///{tmp_path}/s.db', blobs: 'file://{tmp_path}/blobs'}}\n"
        "cameras:\n  drone-1: {source: upload}\n"
    )
    key = _viewer_key(tmp_path)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "sightwire", "serve", str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    lines: list[str] = []
    try:
        _wait_until_up(process, url)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.stream(
            "GET", f"{url}/api/v1/events/stream", headers=headers, timeout=30
        ) as stream:
            assert stream.status_code == 200
            for line in stream.iter_lines():  # to the end: a cut stream raises here
                lines.append(line)
                if line == ": subscribed":
                    process.send_signal(signal.SIGINT)
    finally:
        if process.poll() is None and not lines:
            process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert ": subscribed" in lines
    assert process.returncode == 0, output
    assert "Traceback" not in output and "Cancel" not in output, output
    assert " ERROR " not in output and '"level": "error"' not in output.lower(), output
