"""The roles' parts, without servers: buffer, packets, ids, recorder, health, config."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from sightwire.analysis.observation import Observation
from sightwire.config import ConfigError, parse_config
from sightwire.config.bus import BusConfig
from sightwire.core import Detections, Event, EventData, Frame
from sightwire.core.event import EventObject
from sightwire.core.frame import MOTION_BOXES
from sightwire.roles.buffer import FrameBuffer
from sightwire.roles.frames import EdgeFrame, from_packet, to_packet
from sightwire.roles.health import serve_health
from sightwire.roles.record import EventRecorder, with_derived_ids
from sightwire.rules import RuleOutcome
from sightwire.runtime.pipeline import FrameResult
from tests.bus.servers import free_port
from tests.service import require_service


def test_the_buffer_keeps_order_across_a_restart_and_drops_the_oldest_at_its_cap(
    tmp_path: Path,
) -> None:
    buffer = FrameBuffer(tmp_path, max_bytes=30)
    for n in range(3):
        buffer.push(f"cam-{n % 2}", bytes([n]) * 10)
    buffer.close()
    again = FrameBuffer(tmp_path, max_bytes=30)  # a restarted ingest finds them
    assert [(p.key, p.payload[0]) for p in again.oldest(10)] == [
        ("cam-0", 0), ("cam-1", 1), ("cam-0", 2)
    ]  # fmt: skip
    again.push("cam-1", bytes([3]) * 10)  # past the cap: the oldest goes
    assert again.dropped == 1 and again.bytes == 30
    first = again.oldest(1)[0]
    again.remove(first)
    assert first.payload[0] == 1 and [p.payload[0] for p in again.oldest(10)] == [2, 3]


def frame(seq: int = 7) -> Frame:
    ramp = np.linspace(0, 250, 64, dtype=np.float32)  # smooth: JPEG keeps it close
    image = np.broadcast_to(ramp[None, :, None], (36, 64, 3)).astype(np.uint8)
    boxes = np.array([[1, 2, 30, 20]], np.float32)
    return Frame("belt-1", seq, 1_700_000_000.5, 3.25, image, {MOTION_BOXES: boxes})


def test_packets_carry_pixels_times_and_motion_boxes() -> None:
    raw = from_packet(to_packet(EdgeFrame(frame(), False), BusConfig(encoding="raw")))
    assert np.array_equal(raw.frame.image, frame().image) and not raw.idle
    assert (raw.frame.seq, raw.frame.captured_at, raw.frame.pts) == (7, 1_700_000_000.5, 3.25)
    assert np.asarray(raw.frame.metadata[MOTION_BOXES]).tolist() == [[1, 2, 30, 20]]
    jpeg = from_packet(to_packet(EdgeFrame(frame(), False), BusConfig(jpeg_quality=95)))
    assert jpeg.frame.image.shape == (36, 64, 3)
    assert np.abs(jpeg.frame.image.astype(int) - frame().image).mean() < 4
    idle_packet = to_packet(EdgeFrame(frame(), True), BusConfig())
    idle = from_packet(idle_packet)
    assert idle_packet.data == b"" and idle.idle and idle.frame.image.shape == (36, 64, 3)


def outcome(track_id: int, captured_at: float = 1_700_000_000.5) -> RuleOutcome:
    data = EventData(
        rule="parcel.exit", camera="belt-1", captured_at=captured_at,
        objects=[EventObject(class_name="parcel", box=(1, 2, 3, 4), confidence=0.9,
                             track_id=track_id)],
        attributes={"observed": "crossed", "line": "exit"},
    )  # fmt: skip
    event = Event.create(site="s", camera="belt-1", kind="parcel.exit", data=data)
    observation = Observation("crossed", "belt-1", "w", captured_at, 1.0, 1)  # type: ignore[arg-type]
    return RuleOutcome(event, (), "parcel.exit", observation)


def test_event_ids_follow_the_frame_and_rule_not_the_tracker() -> None:
    [a], [b] = with_derived_ids("s", [outcome(1)]), with_derived_ids("s", [outcome(9)])
    assert a.event.id == b.event.id  # a new owner's tracker numbers tracks afresh
    [c] = with_derived_ids("s", [outcome(1, captured_at=1_700_000_001.0)])
    assert c.event.id != a.event.id
    twins = with_derived_ids("s", [outcome(1), outcome(2)])  # two alike on one frame
    assert len({o.event.id for o in twins}) == 2


def test_a_redelivered_frame_records_no_second_event(tmp_path: Path) -> None:
    config = parse_config(
        f"version: 1\nstore: {{database: 'sqlite:///{tmp_path}/e.db', blobs: 'file://{tmp_path}/b'}}\n",
        "site.yaml",
    )
    result = FrameResult(frame(), None, Detections.empty(), skipped=False)
    first = EventRecorder(config)
    assert first.record(with_derived_ids("s", [outcome(1)]), result) == 1
    second = EventRecorder(config)  # the worker that took the camera over
    assert second.record(with_derived_ids("s", [outcome(5), outcome(6)]), result) == 1
    assert second.duplicates == 1
    events = second.store.query(limit=10).events
    assert len(events) == 2


def test_health_answers_the_probes() -> None:
    async def probe() -> list[tuple[int, str]]:
        ready = asyncio.Event()
        port = free_port()
        server = await serve_health(port, ready.is_set, "127.0.0.1", stats=lambda: {"frames": 3})
        answers = []
        for path in ("/healthz", "/readyz", "/stats", "/nope", "/readyz", "/metrics"):
            answers.append(await asyncio.to_thread(get, f"http://127.0.0.1:{port}{path}"))
            if path == "/nope":
                ready.set()  # the role is ready from now on
        server.close()
        await server.wait_closed()
        return answers

    healthz, not_ready, stats, missing, is_ready, metrics = asyncio.run(probe())
    assert healthz == (200, "ok\n") and not_ready[0] == 503 and missing[0] == 404
    assert json.loads(stats[1]) == {"frames": 3} and is_ready == (200, "ready\n")
    assert metrics[0] == 200
    assert "# TYPE sightwire_role_frames gauge\nsightwire_role_frames 3\n" in metrics[1]
    assert "# TYPE sightwire_capture_to_action_seconds histogram" in metrics[1]  # the registry's
    promtool = shutil.which("promtool")
    if promtool is None:
        require_service("promtool not installed (Debian package prometheus)")
        return
    checked = subprocess.run([promtool, "check", "metrics"], input=metrics[1].encode(),
                             capture_output=True, timeout=30)  # fmt: skip
    problems = (checked.stdout + checked.stderr).decode()
    assert checked.returncode == 0 and not problems.strip(), problems


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), ""


def test_the_bus_section_takes_a_url_or_a_mapping() -> None:
    plain = parse_config('version: 1\nbus: "nats://nats:4222?prefix=a"\n', "site.yaml").bus
    assert (plain.stream, plain.group, plain.encoding) == ("frames", "workers", "jpeg")
    assert BusConfig(url="kafka://k:9092", partitions=8).bus_url() == "kafka://k:9092?partitions=8"
    with pytest.raises(ConfigError, match="partitions"):
        parse_config("version: 1\nbus: {url: 'nats://n?partitions=4', partitions: 8}\n", "s.yaml")
    with pytest.raises(ConfigError, match="bus"):
        parse_config("version: 1\nbus: {url: 'amqp://x'}\n", "s.yaml")
