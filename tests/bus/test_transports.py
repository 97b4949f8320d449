"""The bus contract on every transport (memory, NATS JetStream, Redis Streams, Kafka):
round trip in key order, groups splitting partitions, redelivery when a member dies
or lets its ack deadline pass, and no loss when a handler raises."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from sightwire.bus import Bus, Consumer, Received, consume, open_bus
from sightwire.bus.messages import FramePacket
from sightwire.bus.partitioning import partition_of

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
PARTITIONS = 4
# Keys that between them land on every one of the 4 partitions.
KEYS = [f"cam-{i}" for i in range(8)]
assert {partition_of(key, PARTITIONS) for key in KEYS} == set(range(PARTITIONS))


async def take(consumer: Consumer, count: int, timeout: float, ack: bool = True) -> list[Received]:
    """Fetch until ``count`` messages arrived (acking each), or fail after ``timeout``."""
    got: list[Received] = []
    async with asyncio.timeout(timeout):
        while len(got) < count:
            for message in await consumer.fetch(16, 0.3):
                got.append(message)
                if ack:
                    await message.ack()
    return got


async def nothing_more(consumer: Consumer, seconds: float) -> None:
    """Fail if a message arrives within ``seconds`` (past every ack deadline used here)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        extra = await consumer.fetch(16, min(0.5, end - loop.time()))
        assert not extra, f"unexpected redelivery: {extra}"


async def owning_all(consumer: Consumer, timeout: float = 30) -> None:
    """Wait until ``consumer`` owns every partition (Kafka: after the group settled)."""
    async with asyncio.timeout(timeout):
        while consumer.partitions != frozenset(range(PARTITIONS)):
            await consumer.fetch(1, 0.2)


async def test_round_trip_keeps_bytes_and_per_key_order(bus: Bus) -> None:
    frames = [
        FramePacket("belt-1", seq, 1.7e9 + seq, (2, 3), "raw", bytes(range(6))) for seq in range(5)
    ]
    for frame in frames:
        await bus.publish("frames", frame.key, frame.encode())
    await bus.publish("frames", "other", b"\x00\xff binary \n")
    consumer = await bus.consumer("frames", "workers", "w1")
    try:
        got = await take(consumer, 6, timeout=30)
        belt = [FramePacket.decode(m.payload) for m in got if m.key == "belt-1"]
        assert belt == frames  # same bytes, in publishing order
        [other] = [m for m in got if m.key == "other"]
        assert other.payload == b"\x00\xff binary \n"
        assert other.partition == partition_of("other", PARTITIONS)
        assert all(m.deliveries == 1 and m.stream == "frames" for m in got)
    finally:
        await consumer.close()
    again = await bus.consumer("frames", "workers", "w2")
    try:
        await owning_all(again)
        await nothing_more(again, 2.5)  # acked: never handed out again
    finally:
        await again.close()


async def test_many_messages_on_every_partition_come_once_each_in_key_order(bus: Bus) -> None:
    # More than one fetch's worth on each partition: a transport that reads every
    # partition at once must not drop or delay what exceeds a fetch's limit.
    for seq in range(20):
        for key in KEYS:
            await bus.publish("frames", key, f"{key}/{seq}".encode())
    consumer = await bus.consumer("frames", "workers", "w1")
    try:
        got = await take(consumer, 20 * len(KEYS), timeout=30)
    finally:
        await consumer.close()
    seqs: dict[str, list[int]] = {}
    for message in got:
        key, seq = message.payload.decode().split("/")
        seqs.setdefault(key, []).append(int(seq))
    assert seqs == {key: list(range(20)) for key in KEYS}


async def test_a_group_splits_the_partitions_and_each_key_has_one_owner(bus: Bus) -> None:
    a = await bus.consumer("frames", "workers", "a")
    b = await bus.consumer("frames", "workers", "b")
    try:
        async with asyncio.timeout(30):
            while not (a.partitions and b.partitions and a.partitions.isdisjoint(b.partitions)
                       and a.partitions | b.partitions == set(range(PARTITIONS))):  # fmt: skip
                await asyncio.gather(a.fetch(1, 0.2), b.fetch(1, 0.2))
        for round_ in range(3):
            for key in KEYS:
                await bus.publish("frames", key, f"{key}/{round_}".encode())
        received: dict[str, set[str]] = {"a": set(), "b": set()}
        async with asyncio.timeout(30):
            while sum(map(len, received.values())) < 3 * len(KEYS):
                for consumer in (a, b):
                    for message in await consumer.fetch(16, 0.2):
                        assert message.partition in consumer.partitions
                        received[consumer.member].add(message.payload.decode())
                        await message.ack()
        keys = {
            member: {text.split("/")[0] for text in texts} for member, texts in received.items()
        }
        assert keys["a"] and keys["b"] and keys["a"].isdisjoint(keys["b"])
        assert keys["a"] == {k for k in KEYS if partition_of(k, PARTITIONS) in a.partitions}
    finally:
        await a.close()
        await b.close()


async def test_a_partition_handed_over_mid_stream_reaches_its_new_owner_in_order(
    bus_url: str,
) -> None:
    # A long ack deadline: what a holds comes back only because a hands it back.
    bus = await open_bus(bus_url.replace("ack_wait_s=1&", "ack_wait_s=30&"))
    key = next(k for k in KEYS if partition_of(k, PARTITIONS) >= 2)  # b's half once it joins
    partition = partition_of(key, PARTITIONS)
    for seq in range(30):
        await bus.publish("frames", key, str(seq).encode())
    a = await bus.consumer("frames", "workers", "a")
    b: Consumer | None = None
    try:
        got = await take(a, 1, timeout=30, ack=False)  # a fetched some: it did five of
        done, held = got[:5], got[5:]  # them and holds the rest unacked, like a worker
        for message in done:
            await message.ack()
        b = await bus.consumer("frames", "workers", "b")
        async with asyncio.timeout(30):  # a lets go at its next renewal (Kafka: rebalance)
            while a.owns(partition):
                held += await a.fetch(4, 0.1)
        for message in held:  # the worker hands back what it held, oldest first,
            await message.nak()
        await a.fetch(1, 0.1)  # then its reader what it had fetched ahead
        got = await take(b, 30 - len(done), timeout=30)
    finally:
        await a.close()
        if b is not None:
            await b.close()
        await bus.close()
    assert [int(m.payload) for m in done] == list(range(len(done)))
    assert [int(m.payload) for m in got] == list(range(len(done), 30))


async def test_a_member_that_dies_without_acking_hands_its_messages_to_another(
    bus: Bus, bus_url: str
) -> None:
    for key in KEYS:
        await bus.publish("frames", key, key.encode())
    if bus_url.startswith("memory://"):  # one process: the member closes without acking
        dying = await bus.consumer("frames", "workers", "dying")
        await take(dying, len(KEYS), timeout=10, ack=False)
        survivor = await bus.consumer("frames", "workers", "survivor")
        await dying.close()
    else:  # another process, SIGKILLed while it holds every message unacked
        held_keys = await _held_by_a_killed_process(bus_url, len(KEYS))
        assert sorted(held_keys) == sorted(KEYS)
        survivor = await bus.consumer("frames", "workers", "survivor")
    try:
        got = await take(survivor, len(KEYS), timeout=60)
        assert sorted(m.key for m in got) == sorted(KEYS)
        # Delivery counts are not asserted here: Kafka keeps none, and NATS counts a
        # delivery whose client vanished with its pull request as not made.
    finally:
        await survivor.close()


async def _held_by_a_killed_process(url: str, count: int) -> list[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bus.crash_consumer", url, "frames", "workers", "dying",
        str(count), cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    keys: list[str] = []
    try:
        async with asyncio.timeout(60):
            while (line := (await process.stdout.readline()).decode().strip()) != "holding":
                assert line, "the crash consumer exited early"
                keys.append(line)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    return keys


@pytest.mark.parametrize(
    "bus_url",
    ["memory", pytest.param("nats", marks=pytest.mark.service),
     pytest.param("redis", marks=pytest.mark.service)],
    indirect=True,
)  # fmt: skip
async def test_an_unacked_message_comes_back_after_its_ack_deadline(bus: Bus) -> None:
    # Kafka has no per-message deadline (a stuck member leaves the group instead).
    await bus.publish("frames", "belt-1", b"frame")
    consumer = await bus.consumer("frames", "workers", "slow")
    try:
        [first] = await take(consumer, 1, timeout=10, ack=False)
        [second] = await take(consumer, 1, timeout=10)  # ack_wait_s=1 passes meanwhile
        assert (second.key, second.payload, second.deliveries) == ("belt-1", b"frame", 2)
        assert first.deliveries == 1
        await nothing_more(consumer, 2.5)
    finally:
        await consumer.close()


async def test_a_failing_handler_loses_nothing(bus: Bus) -> None:
    for key in KEYS:
        await bus.publish("events", key, key.encode())
    done: dict[str, int] = {}
    failed: list[str] = []
    stop = asyncio.Event()

    async def handler(message: Received) -> None:
        if message.key == "cam-3" and not failed:
            failed.append(message.key)
            raise RuntimeError("the model server went away")
        done[message.key] = message.deliveries
        if len(done) == len(KEYS):
            stop.set()

    consumer = await bus.consumer("events", "dispatch", "d1")
    try:
        async with asyncio.timeout(30):
            await consume(consumer, handler, stop, timeout_s=0.2)
        assert failed == ["cam-3"] and set(done) == set(KEYS)
        assert done["cam-3"] >= 2  # processed on its redelivery
    finally:
        await consumer.close()
    again = await open_bus_consumer(bus, "events", "dispatch", "d2")
    try:
        await owning_all(again)
        await nothing_more(again, 2.5)
    finally:
        await again.close()


async def open_bus_consumer(bus: Bus, stream: str, group: str, member: str) -> Consumer:
    return await bus.consumer(stream, group, member)


async def test_names_a_transport_cannot_carry_are_refused() -> None:
    bus = await open_bus("memory://")
    with pytest.raises(ValueError, match="stream"):
        await bus.publish("Frames.belt", "k", b"")
    with pytest.raises(ValueError, match="group"):
        await bus.consumer("frames", "a.b", "m")
