"""Ingest cut off from the broker (30 s) or the broker restarted: frames wait in the disk
buffer and drain in order.

The cut-off lasts 30 s (the clip ends meanwhile, so the rest of it waits on disk);
the broker restart lasts as long as it takes. The clip plays in real time so each
outage falls mid-stream. A consumer then reads the frames stream and checks that
every camera's frames are all there, in order (a frame may repeat: a publish that
timed out may have reached the broker anyway; workers skip such repeats).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from sightwire.bus import open_bus
from sightwire.bus.messages import FramePacket
from tests.bus.servers import free_port, reachable
from tests.roles.conftest import Reference
from tests.roles.harness import Role, in_order, roles, wait_for, write_site
from tests.roles.proxy import TcpProxy
from tests.service import require_service

pytestmark = pytest.mark.service
OPTIONS = "partitions=4&ack_wait_s=2&member_ttl_s=2"
NATS_SERVER = Path("/usr/sbin/nats-server")


async def read_frames(url: str, last_seq: dict[str, int], timeout: float) -> dict[str, list[int]]:
    """Every camera's frame seqs on the stream, in delivery order, up to its last."""
    bus = await open_bus(url)
    consumer = await bus.consumer("frames", "check", "checker")
    seqs: dict[str, list[int]] = {}
    try:
        async with asyncio.timeout(timeout):
            while any(max(seqs.get(c, [-1])) < seq for c, seq in last_seq.items()):
                for message in await consumer.fetch(64, 1.0):
                    packet = FramePacket.decode(message.payload)
                    seqs.setdefault(packet.camera, []).append(packet.seq)
                    await message.ack()
    finally:
        await consumer.close()
        await bus.close()
    return seqs


def outage(ingest: Role, cut: object, restore: object, *, lasting_s: float = 0.0) -> None:
    """Cut the broker off once frames flow; restore it once frames pile up on disk and,
    with ``lasting_s``, not before the outage has lasted that long."""
    wait_for(lambda: ingest.stats().get("published", 0) >= 20, 60, "frames to flow")
    cut()  # type: ignore[operator]
    cut_at = time.monotonic()
    wait_for(lambda: ingest.stats().get("buffered", 0) >= 72, 60, "frames to buffer")
    # The outage's length is the scenario (the 30 s), not a wait for a result:
    # the ingest keeps retrying the broker all that time.
    time.sleep(max(0.0, lasting_s - (time.monotonic() - cut_at)))
    restore()  # type: ignore[operator]


def test_frames_buffer_while_the_bus_is_cut_off_then_drain_in_order(
    tmp_path: Path, clip: Path, reference: Reference, nats: str
) -> None:
    host, port = nats.removeprefix("nats://").split(":")
    prefix = "t" + uuid.uuid4().hex[:10]
    with TcpProxy((host, int(port))) as proxy:
        bus = f"nats://127.0.0.1:{proxy.port}?{OPTIONS}&prefix={prefix}"
        config = write_site(tmp_path, clip, database="sqlite://", bus=bus, realtime=True)
        with roles(Role("ingest", config, "--until-end")) as (ingest,):
            outage(ingest, proxy.cut, proxy.restore, lasting_s=30.0)
            assert ingest.wait(90) == 0, ingest.log()
    assert "buffering frames to disk" in ingest.log() and "buffer drained" in ingest.log()
    seqs = asyncio.run(read_frames(f"{nats}?{OPTIONS}&prefix={prefix}", reference.last_seq, 60))
    for camera, expected in reference.seqs.items():
        assert in_order(seqs[camera]) == expected, camera


def test_nothing_is_lost_when_the_broker_restarts(
    tmp_path: Path, clip: Path, reference: Reference
) -> None:
    if not NATS_SERVER.is_file():
        require_service(f"{NATS_SERVER} is missing")
    port = free_port()
    command = [str(NATS_SERVER), "-js", "-sd", str(tmp_path / "js"), "-a", "127.0.0.1",
               "-p", str(port)]  # fmt: skip
    url = f"nats://127.0.0.1:{port}?{OPTIONS}"
    broker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: reachable("127.0.0.1", port), 20, "nats-server to listen")
        config = write_site(tmp_path, clip, database="sqlite://", bus=url, realtime=True)

        def restart() -> None:
            nonlocal broker
            broker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop() -> None:
            broker.terminate()
            broker.wait(20)

        with roles(Role("ingest", config, "--until-end")) as (ingest,):
            outage(ingest, stop, restart)
            assert ingest.wait(90) == 0, ingest.log()
        seqs = asyncio.run(read_frames(url, reference.last_seq, 60))
    finally:
        broker.terminate()
        broker.wait(20)
    for camera, expected in reference.seqs.items():
        assert in_order(seqs[camera]) == expected, camera
