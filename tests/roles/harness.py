"""The distributed roles as real processes, a synthetic site, and what to compare.

A site is a short synthetic conveyor clip (640×360, so a raw frame fits the brokers'
1 MB message limit) read by three cameras; the rule fires when a parcel crosses the
exit line. ``embedded_run`` is the reference: the same config through ``Runner`` in
this process. ``projection`` is what must agree between the two modes: per camera,
rule and line, how many events, about which classes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sightwire.config import load_config
from sightwire.config.models import StoreConfig
from sightwire.core import Event
from sightwire.events.store import EventStore
from sightwire.inference.bundled import PARCELS_MODEL
from sightwire.runtime.pipeline import FrameResult
from sightwire.runtime.runner import Runner
from sightwire.synth import write_conveyor
from tests.bus.servers import free_port

# Three cameras over four partitions: with two workers (range assignment) cam-a and
# cam-c (partitions 1 and 0) go to one, cam-b (partition 2) to the other.
CAMERAS = ("cam-a", "cam-b", "cam-c")
Projection = Counter[tuple[str, str, str, str]]


def write_clip(folder: Path) -> Path:
    path = folder / "belt.mp4"
    write_conveyor(path, seconds=12, size=(640, 360), parcels=4, belt_speed_px_s=300, seed=3)
    return path


def write_site(
    folder: Path,
    clip: Path,
    *,
    database: str,
    bus: str = "memory://",
    encoding: str = "raw",
    buffer_mb: float = 512,
    threads: int = 1,
    realtime: bool = False,
) -> Path:
    """A site config in ``folder``; every camera reads ``clip`` (as fast as it can,
    unless ``realtime``)."""
    camera = (
        f"{{source: '{clip}', fps: 8, realtime: {str(realtime).lower()}, motion: {{}},"
        " lines: {exit: [[400, 0], [400, 360]]},"
        " analyse: [{detect: {model: parcels}}, {track: {}}]}"
    )
    cameras = "\n".join(f"  {name}: {camera}" for name in CAMERAS)
    text = f"""version: 1
site: test
bus: {{url: '{bus}', encoding: {encoding},
       buffer: {{path: '{folder / "buffer"}', max_mb: {buffer_mb}}}}}
store: {{database: '{database}', blobs: 'file://{folder / "blobs"}'}}
models:
  parcels: {{path: '{PARCELS_MODEL}', confidence: 0.2, threads: {threads}}}
cameras:
{cameras}
rules:
  - name: parcel.exit
    on: {{line: exit, class: parcel}}
    actions: [log]
actions:
  log: {{type: file, path: '{folder / "delivered.jsonl"}', fsync: false}}
"""
    path = folder / "site.yaml"
    path.write_text(text)
    return path


def projection(events: Iterable[Event]) -> Projection:
    """What two runs of the same clip must agree on (ids and times differ)."""
    return Counter(
        (
            e.data.rule,
            e.data.camera,
            str(e.data.attributes.get("line")),
            ",".join(sorted(o.class_name for o in e.data.objects)),
        )
        for e in events
    )


def assert_as_embedded(events: list[Event], expected: Projection, folder: Path) -> None:
    """``events`` are embedded mode's (``expected``), none lost, none twice, and the
    dispatcher delivered each of them once to the site's file action."""
    assert projection(events) == expected
    assert len({e.id for e in events}) == len(events)
    assert sorted(delivered(folder)) == sorted(e.id for e in events)


def embedded_run(config: Path) -> tuple[list[Event], dict[str, list[int]]]:
    """The events of the config's embedded run, and each camera's frame seqs."""
    events: list[Event] = []
    seqs: dict[str, list[int]] = {}

    def seen(result: FrameResult) -> None:
        seqs.setdefault(result.frame.camera, []).append(result.frame.seq)

    runner = Runner(load_config(config), until_end=True, on_result=seen)
    runner.on_outcome = lambda outcome, _r: events.append(outcome.event)
    runner.start()
    assert runner.wait(timeout=120), "the embedded run did not end"
    runner.stop()
    return events, seqs


def stored_events(database: str) -> list[Event]:
    """Every event in the store at ``database``, oldest first."""
    store = EventStore.open(StoreConfig(database=database), migrate=False)
    events: list[Event] = []
    cursor: str | None = None
    try:
        while True:
            page = store.query(limit=500, cursor=cursor, oldest_first=True)
            events += page.events
            cursor = page.next_cursor
            if cursor is None:
                return events
    finally:
        store.db.close()


def in_order(seqs: list[int]) -> list[int]:
    """``seqs`` without repeats of frames seen already; a frame out of order fails."""
    kept: list[int] = []
    for seq in seqs:
        if kept and seq <= kept[-1]:
            assert seq in kept, f"frame {seq} arrived after {kept[-1]}, out of order"
            continue
        kept.append(seq)
    return kept


def delivered(folder: Path) -> list[str]:
    """Event ids the dispatcher delivered to the site's file action."""
    path = folder / "delivered.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line)["id"] for line in lines]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until true; fail the test with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


class Role:
    """A ``sightwire ingest|worker|dispatch`` process with its health port and log."""

    def __init__(self, role: str, config: Path, *args: str) -> None:
        self.name = f"{role} {' '.join(args)}".strip()
        self.port = free_port()
        self.log_path = config.parent / f"{role}-{self.port}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "sightwire", role, str(config),
                   "--health-port", str(self.port), *args]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def get(self, path: str) -> tuple[int, str]:
        """GET ``path`` on the role's health port: (status, body); (0, "") if down."""
        try:
            url = f"http://127.0.0.1:{self.port}{path}"
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as exc:
            return int(exc.code), ""
        except OSError:
            return 0, ""

    def stats(self) -> dict[str, Any]:
        status, body = self.get("/stats")
        return dict(json.loads(body)) if status == 200 else {}

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited early:\n{self.log()[-3000:]}")
        return self.get("/readyz")[0] == 200

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still runs:\n{self.log()[-3000:]}") from None

    def stop(self, timeout: float = 20) -> int:
        """SIGTERM, then wait for a graceful exit."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def pause(self) -> None:
        """SIGSTOP: the process holds its sockets but runs nothing (a starved or
        suspended machine), so its leases lapse while it still thinks it owns them."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@contextlib.contextmanager
def roles(*started: Role) -> Iterator[tuple[Role, ...]]:
    """Stop every role at the end, whatever happened; kill the stubborn."""
    try:
        yield started
    finally:
        for role in started:
            if role.process.poll() is None:
                role.process.send_signal(signal.SIGTERM)
        for role in started:
            try:
                role.process.wait(20)
            except subprocess.TimeoutExpired:
                role.kill()
