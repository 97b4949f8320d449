"""A real Sightwire server for the browser tests: ``sightwire serve CONFIG`` in a
subprocess (pipelines, API and UI), on the free port the config names."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

STARTUP_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(config_path: Path, url: str, log: Path) -> Iterator[None]:
    """Serve ``config_path`` (which names the port) until the block ends."""
    with _subprocess(config_path, log):
        _wait_ready(url, log)
        yield


@contextmanager
def _subprocess(config_path: Path, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sightwire", "serve", str(config_path)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)  # polling a server that is starting: nothing to wait on instead
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"the server at {url} did not start in {STARTUP_S} s\n{tail}")
