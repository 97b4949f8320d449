"""``sightwire serve``: starts, answers, logs its address without secrets, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SECRET = "whsec_c2VydmUtdGVzdC1zZWNyZXQtbm90LWZvci1sb2dz"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_and_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(
        "version: 1\n"
        f"store: {{database: 'sqlite:///{tmp_path}/s.db', blobs: 'file://{tmp_path}/blobs'}}\n"
        "cameras:\n  drone-1: {source: upload}\n"
        "actions:\n"
        f"  erp: {{type: webhook, url: 'http://127.0.0.1:9/hook', secret: '${{HOOK_SECRET}}'}}\n"
    )
    port = _free_port()
    env = {**os.environ, "HOOK_SECRET": SECRET}
    process = subprocess.Popen(
        [sys.executable, "-m", "sightwire", "serve", str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "sightwire serve did not start"
                time.sleep(0.1)
        assert health.json() == {"status": "ok"}
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()
        assert ready["pipelines"] == "running"
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/events", timeout=5).status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"127.0.0.1:{port}" in output
    assert SECRET not in output
