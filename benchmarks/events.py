"""Events through the outbox: store → dispatcher → HTTP POST to a local receiver.

``python -m benchmarks.events [--events N] [--rounds R] [--rate R]`` prints the
figures as JSON; ``run()`` returns them as dicts (in the style of :class:`Comparison`).

- **throughput**: a pipeline thread records N events (one destination each) as fast
  as it can while a dispatcher delivers them; events per second from the first
  record to the last delivery. Twice: one ``EventStore.record`` (one transaction)
  per event, and ``record_many`` of 10 events a transaction (a frame with many
  events). Baseline: the same client POSTing the same events straight to the
  receiver, with no store (the HTTP exchange alone). Also this process's CPU time
  per event, which a busy machine does not inflate. Target: >= 2,000 events/s on 2
  cores with SQLite.
- **latency**: events recorded at a steady rate well under capacity; capture (=
  emit here) to the receiver's acknowledgement, p50/p99, from the store's
  ``delivered_at`` column. The framework's share excludes the HTTP exchange itself
  (the attempt's latency). Target: p99 <= 50 ms.

The receiver runs in its own process (the second core); the HTTP client is a small
keep-alive asyncio client, so the figures measure Sightwire, not an HTTP library.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from sightwire.actions.base import ActionResult
from sightwire.config.delivery import DeliveryConfig
from sightwire.core import Event, EventData
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.store import EventStore, NewEvent
from sightwire.events.tables import deliveries, delivery_attempts, events
from sightwire.storage.database import open_database

CONNECTIONS = 16
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def _receiver(ports: multiprocessing.Queue[int]) -> None:  # runs in its own process
    async def serve() -> None:
        server = await asyncio.start_server(_answer, "127.0.0.1", 0, reuse_address=True)
        ports.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(serve())


class KeepAlivePost:
    """POST the CloudEvent JSON over a pool of keep-alive connections."""

    def __init__(self, name: str, port: int, connections: int = CONNECTIONS) -> None:
        self.name = name
        self.port = port
        self._size = connections
        self._idle: asyncio.Queue[Connection] | None = None
        self._open: list[asyncio.StreamWriter] = []

    def accepts(self, event: Event) -> bool:
        return True

    async def send(self, event: Event) -> ActionResult:
        return await self.post(event.id, event.model_dump_json(exclude_none=True).encode())

    async def post(self, event_id: str, body: bytes) -> ActionResult:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for _ in range(self._size):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                self._open.append(writer)
                self._idle.put_nowait((reader, writer))
        reader, writer = await self._idle.get()
        writer.write(
            b"POST /hook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            b"webhook-id: "
            + event_id.encode()
            + b"\r\ncontent-length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        head = await reader.readuntil(b"\r\n\r\n")
        self._idle.put_nowait((reader, writer))
        status = int(head[9:12])
        return ActionResult(ok=status < 300, status_code=status)

    async def close(self) -> None:
        for writer in self._open:
            writer.close()


def _event(now: float) -> Event:
    data = EventData(
        rule="parcel.seen",
        camera="belt-1",
        captured_at=now,
        severity="info",
        attributes={"tracking_number": "1Z999AA10123456784", "length_mm": 412.5},
    )
    return Event.create(site="bench", camera="belt-1", kind="parcel.seen", data=data, now=now)


def _record(store: EventStore, count: int, rate: float | None, batch: int) -> None:
    start = time.perf_counter()
    for i in range(0, count, batch):
        if rate is not None:
            wait = start + i / rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)  # pacing a steady producer
        if batch == 1:
            store.record(_event(time.time()), ["hook"])
        else:
            now = time.time()
            store.record_many([NewEvent(_event(now), ["hook"]) for _ in range(batch)])


@dataclass(slots=True)
class Run:
    """One pass: wall seconds and this process's CPU seconds."""

    wall_s: float
    cpu_s: float


async def _through_outbox(
    url: str, port: int, count: int, rate: float | None = None, batch: int = 1
) -> Run:
    store = EventStore(open_database(url, migrate=True))
    action = KeepAlivePost("hook", port)
    config = DeliveryConfig(concurrency=CONNECTIONS)
    start, start_cpu = time.perf_counter(), _cpu_seconds()
    async with Dispatcher(store, {"hook": action}, config) as dispatcher:
        producer = threading.Thread(target=_record, args=(store, count, rate, batch))
        producer.start()
        while producer.is_alive():
            await asyncio.sleep(0.01)
        left = await dispatcher.wait_delivered(timeout=120)
    run = Run(time.perf_counter() - start, _cpu_seconds() - start_cpu)
    await action.close()
    store.db.close()
    if left:
        raise RuntimeError(f"{left} deliveries were not made")
    return run


async def _direct(port: int, count: int) -> Run:
    action = KeepAlivePost("hook", port)
    made = [_event(time.time()) for _ in range(count)]
    start, start_cpu = time.perf_counter(), _cpu_seconds()
    await asyncio.gather(*(action.send(e) for e in made))
    run = Run(time.perf_counter() - start, _cpu_seconds() - start_cpu)
    await action.close()
    return run


def _latencies(url: str) -> tuple[list[float], list[float]]:
    """Capture → acknowledged, in ms; and the same less the HTTP exchange."""
    db = open_database(url)
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
    return total, share


def _percentile(values: list[float], p: float) -> float:
    return round(values[min(len(values) - 1, int(len(values) * p))], 2)


def run(count: int = 4000, rounds: int = 3, rate: float = 200.0) -> list[dict[str, Any]]:
    """Throughput (median of ``rounds``) and latency at ``rate`` events/s."""
    ports: multiprocessing.Queue[int] = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_receiver, args=(ports,), daemon=True)
    receiver.start()
    port = ports.get(timeout=30)
    runs: dict[str, list[Run]] = {"direct": [], "record": [], "record_many": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(rounds):  # alternate, so that load changes hit every side
                runs["direct"].append(asyncio.run(_direct(port, count)))
                for side, batch in (("record", 1), ("record_many", 10)):
                    url = f"sqlite:///{Path(tmp) / f'{side}-{i}.db'}"
                    runs[side].append(asyncio.run(_through_outbox(url, port, count, None, batch)))
            latency_url = f"sqlite:///{Path(tmp) / 'latency.db'}"
            asyncio.run(_through_outbox(latency_url, port, int(rate * 5), rate))
            total, share = _latencies(latency_url)
    finally:
        receiver.terminate()
    return [*_throughput_rows(runs, count, rounds), _latency_row(total, share, rate)]


def _throughput_rows(runs: dict[str, list[Run]], count: int, rounds: int) -> list[dict[str, Any]]:
    direct = _median(runs["direct"], count)
    rows = []
    for side, label in (
        ("record", "record() each event → outbox → dispatcher → POST"),
        ("record_many", "record_many() 10 a transaction → outbox → dispatcher → POST"),
    ):
        measured = _median(runs[side], count)
        rows.append(
            {
                "name": f"events through the outbox, SQLite ({side})",
                "baseline": "HTTP POST alone",
                "candidate": label,
                "baseline_per_s": direct["per_s"],
                "candidate_per_s": measured["per_s"],
                "candidate_cpu_ms_per_event": measured["cpu_ms"],
                "candidate_per_cpu_s": measured["per_cpu_s"],
                "unit": "event",
                "ratio": round(measured["per_s"] / direct["per_s"], 3),
                "rounds": rounds,
                "target": ">= 2000 events/s",
                "met": measured["per_s"] >= 2000,
            }
        )
    return rows


def _latency_row(total: list[float], share: list[float], rate: float) -> dict[str, Any]:
    return {
        "name": f"capture to action at {rate:g} events/s, SQLite",
        "p50_ms": _percentile(total, 0.5),
        "p99_ms": _percentile(total, 0.99),
        "framework_p50_ms": _percentile(share, 0.5),
        "framework_p99_ms": _percentile(share, 0.99),
        "events": len(total),
        "target": "framework p99 <= 50 ms",
        "met": _percentile(share, 0.99) <= 50,
    }


def _median(runs: list[Run], count: int) -> dict[str, float]:
    wall = statistics.median(r.wall_s for r in runs)
    cpu = statistics.median(r.cpu_s for r in runs)
    return {
        "per_s": round(count / wall, 1),
        "cpu_ms": round(1000 * cpu / count, 3),
        "per_cpu_s": round(count / cpu, 1),
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.events", description=__doc__)
    parser.add_argument("--events", type=int, default=4000, help="events per throughput round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=200.0, help="events/s of the latency run")
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.rounds, args.rate), indent=2))


if __name__ == "__main__":
    main()
