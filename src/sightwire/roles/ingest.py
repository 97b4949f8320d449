"""``sightwire ingest``: the edge role — cameras → frame packets on the bus.

Each camera gets a reader thread and an edge thread (stages, motion gate, face and
plate redaction, encoding; see :mod:`sightwire.roles.frames`); packets go through a
bounded queue to one publisher on the asyncio loop, keyed by camera so a camera's
frames stay in order on one partition. When the bus is unreachable (not yet
connected, or a publish fails), packets go to the disk buffer
(:class:`~sightwire.roles.buffer.FrameBuffer`); while anything is buffered, new
packets queue behind it, so the drain keeps every camera's order.

>>> # stats = asyncio.run(Ingest(load_config("site.yaml"), until_end=True).run(stop))
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass

from sightwire.bus import open_bus
from sightwire.bus.base import Bus, BusError
from sightwire.bus.messages import FramePacket
from sightwire.config.models import SightwireConfig
from sightwire.roles.buffer import FrameBuffer
from sightwire.roles.frames import EdgePipeline, to_packet
from sightwire.sources import (
    CameraReader,
    SourceError,
    SourceState,
    StateChange,
    open_source,
)

log = logging.getLogger("sightwire.ingest")
QUEUE_SIZE = 64  # packets between the camera threads and the publisher
PUBLISH_TIMEOUT_S = 3.0  # a publish that takes longer counts as "bus away"
RETRY_S = 1.0  # while the bus is away, try it again this often
PROGRESS_S = 10.0


@dataclass(slots=True)
class IngestStats:
    frames: int = 0  # packets made
    published: int = 0  # packets the broker confirmed (straight or from the buffer)
    buffered: int = 0  # packets that went through the disk buffer
    dropped: int = 0  # oldest buffered packets dropped at the size cap


class Ingest:
    """Reads every camera of ``config`` and publishes its frames until stopped (or,
    with ``until_end``, until every file has ended and the buffer is empty)."""

    def __init__(self, config: SightwireConfig, *, until_end: bool = False) -> None:
        self.config = config
        self.until_end = until_end
        self.stats = IngestStats()
        bus = config.bus
        self.buffer = FrameBuffer(bus.buffer.path, int(bus.buffer.max_mb * 1024 * 1024))
        self.bus: Bus | None = None
        self._queue: asyncio.Queue[FramePacket] = asyncio.Queue(QUEUE_SIZE)
        self._readers: list[CameraReader] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._retry_at = 0.0

    @property
    def ready(self) -> bool:
        """Connected to the bus (frames may still be draining from the buffer)."""
        return self.bus is not None

    async def run(self, stop: asyncio.Event) -> IngestStats:
        loop = asyncio.get_running_loop()
        for name in self.config.cameras:
            self._start_camera(name, loop)
        tasks = [
            asyncio.create_task(self._connect(stop), name="bus-connect"),
            asyncio.create_task(self._drainer(stop), name="buffer-drain"),
        ]
        next_progress = time.monotonic() + PROGRESS_S
        try:
            while not stop.is_set() and not self._finished():
                await self._step()
                if time.monotonic() >= next_progress:
                    next_progress += PROGRESS_S
                    self._progress()
        finally:
            await self._shutdown(tasks)
        return self.stats

    def _start_camera(self, name: str, loop: asyncio.AbstractEventLoop) -> None:
        camera = self.config.cameras[name]
        try:
            source = open_source(name, camera)
        except SourceError as exc:
            log.error("camera failed: %s", exc, extra={"camera": name})
            return
        reader = CameraReader(source, reconnect=camera.reconnect, listener=_log_state)
        reader.start()
        edge = EdgePipeline(name, camera)
        thread = threading.Thread(
            target=self._edge, args=(reader, edge, loop), name=f"edge-{name}", daemon=True
        )
        self._readers.append(reader)
        self._threads.append(thread)
        thread.start()

    def _edge(
        self, reader: CameraReader, edge: EdgePipeline, loop: asyncio.AbstractEventLoop
    ) -> None:
        """A camera's thread: frames → edge part → packets into the publisher's queue."""
        for frame in reader.frames(self._stopping):
            try:
                packet = to_packet(edge.process(frame), self.config.bus)
            except Exception:  # one bad frame must not end the camera
                log.exception("frame failed", extra={"camera": edge.camera, "seq": frame.seq})
                continue
            put = asyncio.run_coroutine_threadsafe(self._queue.put(packet), loop)
            while not self._stopping.is_set():  # blocks while the queue is full: files never drop
                try:
                    put.result(timeout=0.2)
                    break
                except TimeoutError:
                    continue
            else:
                put.cancel()

    async def _connect(self, stop: asyncio.Event) -> None:
        """Open the bus, retrying until it answers; frames buffer meanwhile."""
        url = self.config.bus.bus_url()
        while not stop.is_set():
            try:
                self.bus = await open_bus(url)
                log.info("bus connected: %s", url.split("?")[0])
                return
            except (BusError, OSError, TimeoutError) as exc:
                log.warning("bus unreachable (%s); buffering frames to disk", exc)
                await asyncio.sleep(RETRY_S)

    async def _step(self) -> None:
        """Take one packet from the queue: publish it, or buffer it behind the others."""
        try:
            async with asyncio.timeout(0.1):
                packet = await self._queue.get()
        except TimeoutError:
            return
        self.stats.frames += 1
        if self.buffer.count or not await self._publish(packet.key, packet.encode()):
            self._to_buffer(packet.key, packet.encode())

    async def _publish(self, key: str, payload: bytes) -> bool:
        """Publish; False (and retry later) when the bus is away."""
        if self.bus is None or time.monotonic() < self._retry_at:
            return False
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                await self.bus.publish(self.config.bus.stream, key, payload)
        except (BusError, OSError, TimeoutError) as exc:
            if not self.buffer.count:
                log.warning(
                    "bus away (%s); buffering frames to disk", str(exc) or type(exc).__name__
                )
            self._retry_at = time.monotonic() + RETRY_S
            return False
        self.stats.published += 1
        return True

    def _to_buffer(self, key: str, payload: bytes) -> None:
        before = self.buffer.dropped
        self.buffer.push(key, payload)
        self.stats.buffered += 1
        self.stats.dropped += self.buffer.dropped - before

    async def _drainer(self, stop: asyncio.Event) -> None:
        """Publish buffered packets, oldest first, whenever the bus takes them.

        A task of its own, so that while an attempt waits on an unreachable broker the
        cameras' packets keep flowing into the buffer (behind the one being tried)."""
        while not stop.is_set():
            if not self.buffer.count or time.monotonic() < self._retry_at:
                await asyncio.sleep(0.05)
                continue
            for packet in self.buffer.oldest(64):
                if not await self._publish(packet.key, packet.payload):
                    break
                self.buffer.remove(packet)
            if not self.buffer.count:
                log.info("buffer drained; publishing directly again")

    def _finished(self) -> bool:
        if not self.until_end or any(t.is_alive() for t in self._threads):
            return False
        return self._queue.empty() and not self.buffer.count

    def _progress(self) -> None:
        s = self.stats
        log.info(
            "ingest: %d frames, %d published, %d in the buffer, %d dropped",
            s.frames, s.published, self.buffer.count, s.dropped,
        )  # fmt: skip

    async def _shutdown(self, tasks: list[asyncio.Task[None]]) -> None:
        """Stop the cameras; what is still queued goes to the buffer (kept on disk)."""
        self._stopping.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for reader in self._readers:
            await asyncio.to_thread(reader.stop, 1.0)
        while not self._queue.empty():
            packet = self._queue.get_nowait()
            self.stats.frames += 1
            self._to_buffer(packet.key, packet.encode())
        if self.bus is not None:
            await self.bus.close()
        self._progress()
        self.buffer.close()


def _log_state(change: StateChange) -> None:
    """A camera connected, reconnecting, ended or failed: one log line each."""
    level = logging.ERROR if change.state is SourceState.FAILED else logging.INFO
    log.log(
        level, "camera %s %s", change.state.value, change.detail, extra={"camera": change.camera}
    )
