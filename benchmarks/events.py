"""Events through the run loop's path: rules → store → outbox → dispatcher → signed webhook.

``python -m benchmarks.events [--events N] [--rounds R] [--rate R] [--shape S] [--packs]
[--own-process]``
prints the figures; ``run()`` returns them as dicts (in the style of :class:`Comparison`).

- **throughput**: camera threads hand frames of rule observations to the rule engine
  (CEL condition, on the event loop thread, as ``CameraEvents`` does); each outcome
  becomes an event with a snapshot of its frame (a 320x240 JPEG) that
  ``EventOutput`` records; the dispatcher delivers it through the real
  ``WebhookAction`` (Standard Webhooks signature, aiohttp) to a receiver in another
  process that verifies every signature with the ``standardwebhooks`` library and
  counts webhook-ids. Events per second from the first frame to the last delivery
  marked delivered, and this process's CPU time per event (the receiver's excluded).
  Shapes: one camera with 10 events a frame; four cameras with 2 each; the same
  without snapshots (the framework alone). ``--packs``: the path of now both sides,
  a snapshot file per frame (baseline: 0.2-0.5 ms of kernel time each on these disks)
  against snapshot pack files (``storage/packs.py``). Otherwise the baseline,
  alternated in the same run, is the run loop's path before group commit and
  hand-over (``record`` one event a transaction, the frame's JPEG encoded and stored
  per event in a file, the dispatcher claiming every delivery by query), with the
  same webhook action. ``--own-process``: the run loop's path with the dispatcher in
  the camera process (baseline) against ``delivery.own_process`` (the delivery
  process's CPU counted too), and the latency run with it. Target: >= 2,000 events/s
  on 2 cores with SQLite.
- **client**: the webhook's HTTP client alone, httpx (before) against aiohttp's
  ``PostPool`` (now), CPU per request at the dispatcher's concurrency.
- **latency**: one camera, one event a frame at a steady rate well under capacity;
  capture to the receiver's acknowledgement, p50/p99, from the store's
  ``delivered_at``; the framework's share excludes the HTTP exchange itself.
  Target: p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import cv2
import httpx
import numpy as np
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from benchmarks.harness import Comparison, _cpu_seconds, compare
from sightwire.actions.base import ActionResult
from sightwire.actions.delivery import answer_result
from sightwire.actions.http_pool import PostPool
from sightwire.analysis import Observation, ObservedObject
from sightwire.config.loader import parse_config
from sightwire.config.models import SightwireConfig
from sightwire.core import Detections, Frame
from sightwire.events.tables import deliveries, delivery_attempts, events
from sightwire.rules import RuleEngine, RuleOutcome
from sightwire.runtime import output as output_module
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.events import RuleRunner
from sightwire.runtime.output import EventOutput
from sightwire.runtime.pipeline import FrameResult
from sightwire.storage.blobs import FileBlobStore
from sightwire.storage.database import open_database

SECRET = "whsec_" + base64.b64encode(b"sightwire-benchmark-secret-32b!!").decode()
CONCURRENCY = 16
# (cameras, events a frame, snapshots stored)
SHAPES = ((1, 10, True), (4, 2, True), (4, 2, False))
Record = Callable[[EventOutput, list[RuleOutcome], FrameResult], None]


# --- the receiver (its own process) -------------------------------------------------


class _Tally:
    def __init__(self) -> None:
        self.requests = 0
        self.ids: set[str] = set()
        self.bad = 0
        self.verifier = Webhook(SECRET)


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, t: _Tally) -> None:
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            headers = {
                k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:])
            }
            body = await reader.readexactly(int(headers.get("content-length") or 0))
            if head[0].startswith("POST /plain"):  # the client comparison: not verified
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                continue
            if head[0].startswith("GET /stats"):
                reply = json.dumps({"requests": t.requests, "unique": len(t.ids), "bad": t.bad})
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(reply), reply.encode())
                )
                continue
            t.requests += 1
            try:
                t.verifier.verify(body, headers)
                t.ids.add(headers["webhook-id"])
            except WebhookVerificationError:
                t.bad += 1
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def _receiver(ports: multiprocessing.Queue[int]) -> None:
    async def serve() -> None:
        tally = _Tally()
        server = await asyncio.start_server(
            lambda r, w: _answer(r, w, tally), "127.0.0.1", 0, reuse_address=True
        )
        ports.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(serve())


def _stats(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=10) as answer:
        stats: dict[str, int] = json.loads(answer.read())
        return stats


# --- the pipeline side --------------------------------------------------------------


def _config(folder: Path, port: int, cameras: int, own_process: bool = False) -> SightwireConfig:
    names = "\n".join(
        f"  cam-{i}: {{source: upload, analyse: [{{track: {{}}}}], "
        f"lines: {{exit: [[160, 0], [160, 240]]}}}}"
        for i in range(cameras)
    )
    text = f"""
version: 1
site: bench
store: {{database: 'sqlite:///{folder}/events.db', blobs: 'file://{folder}/blobs'}}
cameras:
{names}
rules:
  - {{name: parcel.exit, on: {{line: exit}}, when: "object.length_mm > 100.0"}}
webhooks:
  - {{url: "http://127.0.0.1:{port}/hook", secret: "${{BENCH_SECRET}}"}}
delivery: {{concurrency: {CONCURRENCY}, own_process: {str(own_process).lower()}}}
"""
    return parse_config(text, "bench.yaml", {"BENCH_SECRET": SECRET})


def _scene() -> np.ndarray:
    """A 320x240 picture of a belt with parcels (a real scene's JPEG size, ~10 KB)."""
    image = np.full((240, 320, 3), 90, np.uint8)
    image[:, :, 1] = np.linspace(60, 140, 320, dtype=np.uint8)
    for i in range(4):
        cv2.rectangle(image, (20 + 75 * i, 60 + 10 * i), (80 + 75 * i, 150), (40, 120, 200), -1)
        cv2.putText(image, f"1Z{i}", (25 + 75 * i, 110), 0, 0.5, (0, 0, 0), 1)
    return image


def _frame(camera: str, seq: int, image: np.ndarray) -> FrameResult:
    frame = Frame(camera, seq, time.time(), seq / 10, image)
    return FrameResult(frame, None, Detections.empty(), False)


def _observations(result: FrameResult, watch: str, count: int) -> list[Observation]:
    frame = result.frame
    return [
        Observation(
            "cross",
            frame.camera,
            watch,
            frame.captured_at,
            frame.pts,
            frame.seq,
            line="exit",
            object=ObservedObject(
                "parcel",
                (140.0, 100.0, 180.0, 140.0),
                0.9,
                frame.seq * count + i + 1,
                {"length_mm": 412.5, "tracking_number": f"1Z{frame.seq:010d}{i:06d}"},
            ),
            direction="out",
            sense="left_to_right",
        )
        for i in range(count)
    ]


def _record_new(output: EventOutput, outcomes: list[RuleOutcome], result: FrameResult) -> None:
    for _, error in output.record_frame(outcomes, result):
        if error is not None:
            raise error


def _record_files(output: EventOutput, outcomes: list[RuleOutcome], result: FrameResult) -> None:
    """The run loop's path with a file a snapshot (``_measure`` switches packs off)."""
    _record_new(output, outcomes, result)


def _record_split(output: EventOutput, outcomes: list[RuleOutcome], result: FrameResult) -> None:
    """The run loop's path with ``delivery.own_process`` (``_measure`` switches it on)."""
    _record_new(output, outcomes, result)


def _record_old(output: EventOutput, outcomes: list[RuleOutcome], result: FrameResult) -> None:
    """The run loop's path before this change: per outcome, encode and record alone."""
    for outcome in outcomes:
        jpeg = output_module._snapshot(result)  # encoded per event (None: switched off)
        output.store.record(outcome.event, output._destinations(outcome), jpeg)


Evaluate = Callable[[list[Observation]], list[RuleOutcome]]


def _camera(
    output: EventOutput,
    engine: RuleEngine,
    evaluate: Evaluate,
    camera: str,
    frames: int,
    per_frame: int,
    record: Record,
    pace_s: float = 0.0,
) -> None:
    image = _scene()
    watch = engine.triggers[0].watch
    start = time.perf_counter()
    for seq in range(frames):
        if pace_s and (wait := start + seq * pace_s - time.perf_counter()) > 0:
            time.sleep(wait)
        result = _frame(camera, seq, image)
        outcomes = evaluate(_observations(result, watch, per_frame))
        record(output, outcomes, result)


@dataclass(slots=True)
class Pass:
    wall_s: float
    cpu_s: float


def _pass(
    folder: Path,
    port: int,
    shape: tuple[int, int, bool],
    count: int,
    record: Record,
    pace_s: float = 0.0,
) -> Pass:
    """Record ``count`` events over ``shape`` = (cameras, events a frame, snapshots);
    wait until all are delivered."""
    cameras, per_frame, snapshots = shape
    with contextlib.ExitStack() as stack:
        if not snapshots:  # the framework alone: no JPEG, no snapshot files
            stack.enter_context(mock.patch.object(output_module, "_snapshot", _no_snapshot))
        return _measure(folder, port, cameras, per_frame, count, record, pace_s)


def _no_snapshot(_result: FrameResult) -> None:
    return None


def _measure(
    folder: Path,
    port: int,
    cameras: int,
    per_frame: int,
    count: int,
    record: Record,
    pace_s: float,
) -> Pass:
    config = _config(folder, port, cameras, own_process=record is _record_split)
    loop = EventLoopThread().start()
    output = EventOutput(config, loop, hand_over=record is not _record_old)
    blobs = output.store.blobs
    assert isinstance(blobs, FileBlobStore)
    blobs.packs = record in (_record_new, _record_split)  # before: a file a snapshot
    engine = RuleEngine.from_config(config)
    evaluate: Evaluate = RuleRunner(engine, loop).evaluate
    if record is _record_old:  # before: every frame handed to the loop and back
        evaluate = lambda observations: loop.call(engine.evaluate(observations))  # noqa: E731
    before = _stats(port)
    frames = count // (cameras * per_frame)
    threads = [
        threading.Thread(
            target=_camera,
            args=(output, engine, evaluate, name, frames, per_frame, record, pace_s),
        )
        for name in config.cameras
    ]
    start, start_cpu = time.perf_counter(), _cpu_seconds() + _delivery_cpu(output)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    left = output.drain(timeout=120)
    cpu = _cpu_seconds() + _delivery_cpu(output) - start_cpu
    measured = Pass(time.perf_counter() - start, cpu)
    output.close()
    blobs.close()
    loop.stop()
    got = _stats(port)
    arrived, bad = got["unique"] - before["unique"], got["bad"] - before["bad"]
    if left or arrived != frames * cameras * per_frame or bad:
        raise RuntimeError(f"not every event arrived signed: {left} pending, receiver {got}")
    return measured


def _delivery_cpu(output: EventOutput) -> float:
    """CPU seconds of the delivery process so far (0 without one): it is part of the
    cost of an event, though not of this process."""
    pid = output.deliveries.pid if output.deliveries is not None else None
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


# What each mode of ``_throughput`` compares: (baseline, its name, candidate, its name).
MODES: dict[str, tuple[Record, str, Record, str]] = {
    "old": (_record_old, "one transaction an event, by query",
            _record_new, "group commit + hand-over + packs"),
    "packs": (_record_files, "a file a snapshot", _record_new, "snapshot packs"),
    "split": (_record_new, "deliveries in the camera process",
              _record_split, "deliveries in their own process (delivery.own_process)"),
}  # fmt: skip


def _throughput(
    port: int,
    count: int,
    rounds: int,
    shapes: tuple[tuple[int, int, bool], ...] = SHAPES,
    mode: str = "old",
) -> list[Comparison]:
    """Per shape, the two sides of ``mode`` (see ``MODES``), alternated."""
    baseline, baseline_name, candidate, candidate_name = MODES[mode]
    comparisons = []
    for cameras, per_frame, snapshots in shapes:
        comparison = Comparison(
            name=f"rules → outbox → signed webhook, SQLite, {cameras} camera(s) x "
            f"{per_frame} events a frame, {'a' if snapshots else 'no'} snapshot a frame",
            baseline=baseline_name,
            candidate=candidate_name,
            units=count,
            unit="event",
            target=">= 2000 events/s",
        )
        for i in range(rounds):  # alternate, so that load changes hit both sides
            sides = [(baseline, comparison.baseline_s, comparison.baseline_cpu_s)]
            sides.append((candidate, comparison.candidate_s, comparison.candidate_cpu_s))
            for record, wall, cpu in sides if i % 2 == 0 else reversed(sides):
                with tempfile.TemporaryDirectory() as tmp:
                    shape = (cameras, per_frame, snapshots)
                    measured = _pass(Path(tmp), port, shape, count, record)
                wall.append(measured.wall_s)
                cpu.append(measured.cpu_s)
        comparisons.append(comparison)
    return comparisons


def _latency(port: int, rate: float, record: Record = _record_new) -> dict[str, Any]:
    """Capture → acknowledged at ``rate`` events/s (one a frame), through the new path
    (``_record_split``: with deliveries in their own process)."""
    with tempfile.TemporaryDirectory() as tmp:
        _pass(Path(tmp), port, (1, 1, True), int(rate * 5), record, pace_s=1 / rate)
        db = open_database(f"sqlite:///{tmp}/events.db")
        query = (
            select(deliveries.c.delivered_at, events.c.captured_at, delivery_attempts.c.latency_ms)
            .join(events, events.c.id == deliveries.c.event_id)
            .join(delivery_attempts, delivery_attempts.c.delivery_id == deliveries.c.id)
        )
        with db.read() as conn:
            rows = conn.execute(query).all()
        db.close()
    total = sorted((r.delivered_at - r.captured_at) * 1000 for r in rows)
    share = sorted((r.delivered_at - r.captured_at) * 1000 - r.latency_ms for r in rows)
    return {
        "name": f"capture to action at {rate:g} events/s, SQLite"
        + (", deliveries in their own process" if record is _record_split else ""),
        "p50_ms": _percentile(total, 0.5),
        "p99_ms": _percentile(total, 0.99),
        "framework_p50_ms": _percentile(share, 0.5),
        "framework_p99_ms": _percentile(share, 0.99),
        "events": len(total),
        "target": "framework p99 <= 50 ms",
        "met": _percentile(share, 0.99) <= 50,
    }


async def _posts(port: int, count: int, client: str) -> None:
    """``count`` signed-size POSTs, ``CONCURRENCY`` at a time, through ``client``."""
    url = f"http://127.0.0.1:{port}/plain"
    body = b'{"specversion":"1.0","data":{"x":"' + b"a" * 700 + b'"}}'
    headers = {"content-type": "application/json", "webhook-id": "msg"}
    gate = asyncio.Semaphore(CONCURRENCY)
    if client == "httpx":  # the webhook action's client before this change
        http = httpx.AsyncClient(timeout=httpx.Timeout(5.0), follow_redirects=False)

        async def one() -> ActionResult:
            async with asyncio.timeout(5.0):
                response = await http.post(url, content=body, headers=headers)
            return answer_result(response.status_code, "", response.headers, response.content)

        close = http.aclose
    else:
        pool = PostPool(5.0)

        async def one() -> ActionResult:
            return await pool.post(url, body, headers)

        close = pool.close

    async def gated() -> ActionResult:
        async with gate:
            return await one()

    await asyncio.gather(*(gated() for _ in range(count)))
    await close()


def _clients(port: int, rounds: int, count: int = 2000) -> Comparison:
    comparison = Comparison(
        name=f"webhook HTTP client, keep-alive POSTs, {CONCURRENCY} at a time",
        baseline="httpx AsyncClient (before)",
        candidate="aiohttp PostPool",
        units=count,
        unit="request",
    )
    return compare(
        comparison,
        lambda: asyncio.run(_posts(port, count, "httpx")),
        lambda: asyncio.run(_posts(port, count, "aiohttp")),
        rounds=rounds,
    )


def _percentile(values: list[float], p: float) -> float:
    return round(values[min(len(values) - 1, int(len(values) * p))], 2)


def _row(c: Comparison) -> dict[str, Any]:
    row: dict[str, Any] = c.as_dict()
    cpu = {
        "baseline_cpu_ms_per_event": 1000 * statistics.median(c.baseline_cpu_s) / c.units,
        "candidate_cpu_ms_per_event": 1000 * statistics.median(c.candidate_cpu_s) / c.units,
    }
    row.update({k: round(v, 3) for k, v in cpu.items()})
    row["met"] = row["candidate_per_s"] >= 2000
    return row


def _client_row(c: Comparison) -> dict[str, Any]:
    row: dict[str, Any] = c.as_dict()
    for side, cpu in (("baseline", c.baseline_cpu_s), ("candidate", c.candidate_cpu_s)):
        row[f"{side}_cpu_us_per_request"] = round(1e6 * statistics.median(cpu) / c.units, 1)
    return row


def run(
    count: int = 4000,
    rounds: int = 3,
    rate: float = 200.0,
    shapes: tuple[tuple[int, int, bool], ...] = SHAPES,
    only_throughput: bool = False,
    mode: str = "old",
) -> list[dict[str, Any]]:
    """Throughput per shape (median of ``rounds``, both sides) and latency at ``rate``;
    ``only_throughput`` skips the client comparison and the latency run."""
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receiver, args=(ports,), daemon=True)
    receiver.start()
    try:
        port = ports.get(timeout=30)
        rows = [_row(c) for c in _throughput(port, count, rounds, shapes, mode)]
        if mode == "split":
            rows.append(_latency(port, rate, _record_split))
        if not only_throughput:
            rows.append(_client_row(_clients(port, rounds)))
            rows.append(_latency(port, rate))
    finally:
        receiver.terminate()
    rows.append({"load_average": [round(x, 2) for x in os.getloadavg()]})
    return rows


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.events", description=__doc__)
    parser.add_argument("--events", type=int, default=4000, help="events per throughput pass")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s of the latency run")
    parser.add_argument(
        "--shape",
        action="append",
        type=_shape,
        help="CAMERASxEVENTS[s] (s: with snapshots), e.g. 4x2s; repeatable; "
        "throughput only (default: every shape, the client comparison and latency)",
    )
    parser.add_argument(
        "--packs",
        action="store_true",
        help="throughput only: a snapshot file per frame (baseline) against pack files",
    )
    parser.add_argument(
        "--own-process",
        action="store_true",
        help="throughput and latency: deliveries in the camera process (baseline) against "
        "delivery.own_process",
    )
    args = parser.parse_args()
    shapes = tuple(args.shape) if args.shape else SHAPES
    only = bool(args.shape) or args.packs or args.own_process
    mode = "packs" if args.packs else "split" if args.own_process else "old"
    rows = run(args.events, args.rounds, args.rate, shapes, only, mode)
    print(json.dumps(rows, indent=2))


def _shape(text: str) -> tuple[int, int, bool]:
    """``4x2s`` → (4, 2, True): cameras, events a frame, snapshots."""
    cameras, _, rest = text.partition("x")
    return int(cameras), int(rest.rstrip("s")), rest.endswith("s")


if __name__ == "__main__":
    main()
