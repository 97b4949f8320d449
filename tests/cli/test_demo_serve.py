"""``sightwire demo`` serves the API and web UI on its own events while it runs, with a
demo key made for the run and revoked at its end; ``--stay`` serves on after the
summary until Ctrl-C; ``--no-serve`` opens no port."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from rich.console import Console

from sightwire.cli.demo import sample_clip
from sightwire.security.audit import AuditTrail
from sightwire.security.keys import ApiKeyStore
from sightwire.security.principal import AuthError, Role
from sightwire.storage.database import Database, open_database

ANNOUNCED = re.compile(r"UI: (http://127\.0\.0\.1:(\d+))/ui  key: (sw_\S+)")
START_TIMEOUT_S = 180.0  # model loading and a first run's migrations, on 2 busy cores
TIMEOUT = httpx.Timeout(10.0)


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short sample clip (10 s, 3 parcels, one smudged label), made once."""
    folder = tmp_path_factory.mktemp("clip")
    sample_clip(folder, 10, 3, Console(stderr=True))
    return folder


@pytest.fixture
def data(clip_folder: Path, tmp_path: Path) -> Path:
    """A demo data folder holding the clip and no database yet."""
    return Path(shutil.copytree(clip_folder, tmp_path / "demo"))


class Demo:
    """``sightwire demo`` in a subprocess, its output collected as it comes."""

    def __init__(self, data: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if k != "WMS_URL"}
        command = [sys.executable, "-m", "sightwire", "demo", "--data", str(data), *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._changed = threading.Condition()
        assert self.process.stdout is not None and self.process.stderr is not None
        streams = ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr))
        self._readers = [
            threading.Thread(target=self._read, args=pair, daemon=True) for pair in streams
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: IO[str], lines: list[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line)
                self._changed.notify_all()

    def wait_for(
        self, pattern: str | re.Pattern[str], timeout: float = START_TIMEOUT_S
    ) -> re.Match[str]:
        """The first stderr line matching ``pattern``, waiting for it to be printed."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.stderr:
                    if found := re.search(pattern, line):
                        return found
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"no {pattern!r} in stderr:\n{''.join(self.stderr)}")
                self._changed.wait(min(left, 0.5))

    def wait(self, timeout: float) -> int:
        """The exit status, once every line it printed is collected."""
        status = self.process.wait(timeout)
        for reader in self._readers:  # each reads to the end of its pipe
            reader.join(10)
        return status

    def finish(self, timeout: float = START_TIMEOUT_S) -> dict[str, Any]:
        """Wait for the exit (status 0) and return the JSON summary."""
        assert self.wait(timeout) == 0, "".join(self.stderr)
        return dict(json.loads("".join(self.stdout)))

    def summary(self) -> dict[str, Any] | None:
        """The JSON summary once stdout holds all of it (``--stay``: before the exit)."""
        try:
            return dict(json.loads("".join(list(self.stdout))))
        except json.JSONDecodeError:
            return None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def demos() -> Iterator[Callable[..., Demo]]:
    started: list[Demo] = []

    def start(data: Path, *args: str) -> Demo:
        started.append(Demo(data, *args))
        return started[-1]

    yield start
    for demo in started:
        demo.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def poll(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """``check()``'s first truthy answer, asked every 0.1 s until ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (answer := check()):
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.1)
    return answer


def database(data: Path) -> Database:
    return open_database(f"sqlite:///{data / 'events.db'}", migrate=True)


def assert_revoked(data: Path, key: str) -> None:
    """The key answers 401 now (revoked, not unknown), and both ends are audited."""
    db = database(data)
    with pytest.raises(AuthError, match="revoked"):
        ApiKeyStore(db).authenticate(key)
    key_id = key.split("_")[1]
    actions = [e.action for e in AuditTrail(db).entries() if e.target == f"key:{key_id}"]
    assert actions == ["key.create", "key.revoke"]
    db.close()


def test_the_demo_serves_its_events_and_ui_while_it_runs(
    data: Path, demos: Callable[..., Demo]
) -> None:
    db = database(data)  # a demo key that a killed demo left active
    keys = ApiKeyStore(db, audit=AuditTrail(db))
    stale = keys.create("sightwire demo", Role.ADMIN, None, created_by="cli:test")
    db.close()
    port = free_port()
    demo = demos(data, "--realtime", "--port", str(port), "--json")  # ~10 s of clip
    url, printed_port, key = demo.wait_for(ANNOUNCED).groups()
    assert int(printed_port) == port
    with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        assert http.get("/healthz").status_code == 200
        assert http.get("/api/v1/events").status_code == 401
        signed_in = {"Authorization": f"Bearer {key}"}
        assert http.get("/api/v1/events", headers=signed_in).status_code == 200
        assert http.get("/api/v1/me", headers=signed_in).json()["role"] == "admin"
        page = http.get("/ui/events")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    report = demo.finish()  # the clip ended: it exits by itself
    assert report["ui"] == f"{url}/ui"
    assert key not in "".join(demo.stdout)  # the key is for the terminal, not the JSON
    assert not listening(port)  # released
    assert_revoked(data, key)
    assert_revoked(data, stale.secret)  # revoked by this run, at its start


def test_stay_serves_after_the_summary_until_ctrl_c_and_a_taken_port_is_avoided(
    data: Path, demos: Callable[..., Demo]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        demo = demos(data, "--port", str(busy), "--stay", "--json")
        demo.wait_for(f"port {busy} is taken")
        url, port, key = demo.wait_for(ANNOUNCED).groups()
        assert int(port) != busy
    demo.wait_for("until Ctrl-C")  # the run is over and its summary printed
    report = poll(demo.summary, timeout=10)
    assert report["ui"] == f"{url}/ui" and report["routes"]
    signed_in = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        items = http.get("/api/v1/events", headers=signed_in).json()["items"]
    assert {r["event_id"] for r in report["routes"]} <= {i["event"]["id"] for i in items}
    assert demo.process.poll() is None  # still serving
    # Ctrl-C with the Events page's stream open: it ends cleanly, and at once.
    events = f"{url}/api/v1/events/stream"
    with httpx.stream("GET", events, headers=signed_in, timeout=TIMEOUT) as stream:
        lines = stream.iter_lines()
        assert next(lines) == ": subscribed"
        asked = time.monotonic()
        demo.process.send_signal(signal.SIGINT)
        assert demo.wait(15) == 0
    assert time.monotonic() - asked < 5.0, "Ctrl-C took too long"
    assert "Traceback" not in "".join(demo.stderr)
    assert not listening(int(port))
    assert_revoked(data, key)


def test_no_serve_opens_no_port_and_makes_no_key(data: Path, demos: Callable[..., Demo]) -> None:
    port = free_port()
    demo = demos(data, "--no-serve", "--port", str(port), "--json", "--duration", "1")
    opened = False
    while demo.process.poll() is None:  # until it ends, the port stays closed
        opened = opened or listening(port)
        time.sleep(0.05)
    report = demo.finish()
    assert not opened and report["ui"] is None
    assert not any("UI:" in line for line in demo.stderr)
    db = database(data)
    assert ApiKeyStore(db).list() == []
    db.close()
