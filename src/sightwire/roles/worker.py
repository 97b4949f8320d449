"""``sightwire worker``: frame packets → inference → tracking → rules → events.

A worker is one member of the bus group (``bus.group``) on ``bus.stream``. It owns
the cameras of its partitions: a camera's analysers and tracker are built on its
first frame here, and dropped (with its scene analysis) when its partition moves
away or the worker's hold on it was broken (``Consumer.epoch``), so a camera's
tracker state lives in exactly one process and never outlives a gap in what it saw.
Ownership is asked again just before a frame's events are committed. A frame is acked
only after its events are committed to the store, so a killed worker's frames come
again to whoever takes its partitions; the events of such a frame get the same
deterministic ids (:func:`~sightwire.roles.record.with_derived_ids`) and the store
refuses them, so no event is recorded twice.

>>> # stats = asyncio.run(Worker(load_config("site.yaml")).run(stop))
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import socket
import time
from collections import deque
from dataclasses import dataclass, field

from prometheus_client import Histogram

from sightwire.bus import open_bus
from sightwire.bus.base import BusError, Consumer, Received
from sightwire.bus.messages import FramePacket, MessageError
from sightwire.config.models import SightwireConfig
from sightwire.core import Detections
from sightwire.events.metrics import LATENCY_BUCKETS, sightwire_registry
from sightwire.roles.frames import from_packet
from sightwire.roles.record import EventRecorder, with_derived_ids
from sightwire.runtime.analysers import build_analysers
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.events import CameraEvents
from sightwire.runtime.models import ModelHub
from sightwire.runtime.pipeline import Analyser, FrameResult
from sightwire.stages.redact import Redactor

log = logging.getLogger("sightwire.worker")
PROGRESS_S = 10.0
FRAME_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5)


@functools.cache
def frame_metrics() -> tuple[Histogram, Histogram]:
    """The worker's histograms, in the process's Sightwire registry (its ``/metrics``):
    the time a frame takes here, and how far behind its capture it is committed."""
    registry = sightwire_registry()
    took = Histogram(
        "sightwire_worker_frame_seconds",
        "A worker's time for one frame: analysis, rules and the commit of its events",
        buckets=FRAME_BUCKETS,
        registry=registry,
    )
    lag = Histogram(
        "sightwire_worker_lag_seconds",
        "Frame capture to its events committed by a worker (how far behind the cameras)",
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    return took, lag


@dataclass(slots=True)
class WorkerStats:
    frames: int = 0  # frames processed
    events: int = 0  # events recorded (new)
    duplicate_frames: int = 0  # frames that came again after being processed here
    duplicate_events: int = 0  # events the store had already (a redelivered frame)
    last_seq: dict[str, int] = field(default_factory=dict)  # per camera, the latest frame done
    partitions: list[int] = field(default_factory=list)  # owned now


@dataclass(slots=True)
class _Camera:
    analysers: list[Analyser]
    redactor: Redactor | None
    last: tuple[int, float] | None = None  # (seq, captured_at) of the last frame done
    partition: int = 0
    epoch: int = 0  # the consumer's epoch when the camera was taken over
    held: deque[Received] = field(default_factory=deque)  # done, left unacked on purpose


class _NotOwnedError(Exception):
    """The frame's partition moved away (or the hold broke) while it was worked on."""


@dataclass(frozen=True, slots=True)
class _Owner:
    """Whose frame this is: asked again just before its events are committed."""

    consumer: Consumer
    partition: int
    epoch: int

    def check(self) -> None:
        if self.consumer.epoch != self.epoch or not self.consumer.owns(self.partition):
            raise _NotOwnedError(self.partition)


def member_name() -> str:
    """A group member name unique to this process: ``host-pid``."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:48]
    return f"{host}-{os.getpid()}"


class Worker:
    """Processes the frames of the cameras its partitions hold, until stopped."""

    def __init__(self, config: SightwireConfig, *, member: str | None = None) -> None:
        self.config = config
        self.member = member or member_name()
        self.stats = WorkerStats()
        self.models = ModelHub(config)
        self._loop = EventLoopThread("sightwire-rules").start()
        self.events = CameraEvents(config, self._loop)
        self.recorder = EventRecorder(config)
        self.cameras: dict[str, _Camera] = {}
        self.partitions: frozenset[int] = frozenset()
        self.epoch = 0
        self.consumer: Consumer | None = None

    @property
    def ready(self) -> bool:
        """A member of the group (the store answered when it was opened)."""
        return self.consumer is not None

    async def run(self, stop: asyncio.Event) -> WorkerStats:
        bus_config = self.config.bus
        bus = await open_bus(bus_config.bus_url())
        consumer = await bus.consumer(bus_config.stream, bus_config.group, self.member)
        self.consumer = consumer
        log.info("worker %s joined %s on %s", self.member, bus_config.group, bus_config.stream)
        next_progress = time.monotonic() + PROGRESS_S
        try:
            while not stop.is_set():
                # Following before the fetch hands a dropped camera's held frames back
                # before the reader hands back the newer ones it fetched.
                await self._follow(consumer)
                messages = await consumer.fetch(max_messages=16, timeout_s=0.5)
                for message in messages:
                    await self._follow(consumer)
                    await self._handle(message, consumer)
                if time.monotonic() >= next_progress:
                    next_progress += PROGRESS_S
                    self._progress()
        finally:
            self.consumer = None
            await self._hand_back(consumer)
            await consumer.close()  # what is unacked goes to the other members now
            await bus.close()
            self._close()
        return self.stats

    async def _follow(self, consumer: Consumer) -> None:
        """Let go of cameras whose partition moved away, or all of them when the
        hold was broken (another worker may have read their frames meanwhile)."""
        partitions, epoch = consumer.partitions, consumer.epoch
        if partitions == self.partitions and epoch == self.epoch:
            return
        gained, lost = partitions - self.partitions, self.partitions - partitions
        if epoch != self.epoch:
            log.warning("hold on partitions broken (epoch %d); starting every camera afresh",
                        epoch)  # fmt: skip
        self.partitions, self.epoch = partitions, epoch
        self.stats.partitions = sorted(partitions)
        log.info("partitions: gained %s, lost %s", sorted(gained), sorted(lost))
        for name, camera in list(self.cameras.items()):
            if camera.partition not in partitions or camera.epoch != epoch:
                await self._let_go(name)

    async def _hand_back(self, consumer: Consumer) -> None:
        """On a graceful stop: stop fetching, then hand back every camera's held
        frames, so their next owners warm their trackers up on them."""
        try:
            await consumer.pause()
            for name in list(self.cameras):
                await self._let_go(name)
        except Exception:  # the broker is away: the frames come again after ack_wait
            log.exception("could not hand the held frames back")

    async def _let_go(self, name: str) -> None:
        """Forget a camera's tracks and watches, and hand its held frames back, oldest
        first, so its next owner replays them before newer ones."""
        camera = self.cameras.pop(name, None)
        self.events.start_afresh(name, self.config.cameras[name])
        for message in camera.held if camera is not None else ():
            await message.nak()

    async def _handle(self, message: Received, consumer: Consumer) -> None:
        if not consumer.owns(message.partition):
            await message.nak()  # fetched just before the partition moved away
            return
        try:
            packet = FramePacket.decode(message.payload)
        except MessageError as exc:
            log.error("not a frame packet (%s); dropped", exc, extra={"camera": message.key})
            await _ack(message)
            return
        if packet.camera not in self.config.cameras:
            log.warning("frame of an unknown camera; dropped", extra={"camera": packet.camera})
            await _ack(message)
            return
        try:
            owner = _Owner(consumer, message.partition, self.epoch)
            done = await asyncio.to_thread(self._process, packet, owner)
        except _NotOwnedError:
            log.info("partition moved during the frame; handing it back",
                     extra={"camera": packet.camera})  # fmt: skip
            await self._let_go(packet.camera)
            await message.nak()
            return
        except Exception:  # the store is away (or a bug): the frame comes again
            log.exception("frame not recorded; handing it back", extra={"camera": packet.camera})
            await self._let_go(packet.camera)  # its rule state moved on; afresh on redelivery
            await message.nak()
            return
        camera = self.cameras.get(packet.camera)
        if not done or camera is None:
            await _ack(message)
            return
        # Committed. Ack it once `replay_frames` newer frames are done: until then a
        # worker that takes the camera over gets it again, to warm its tracker up.
        camera.held.append(message)
        while len(camera.held) > self.config.bus.replay_frames:
            await _ack(camera.held.popleft())

    def _process(self, packet: FramePacket, owner: _Owner) -> bool:
        """Analyse one frame, evaluate the rules and commit its events (a thread).

        Returns False for a frame done here already (its ack was late or lost); raises
        :class:`_NotOwnedError` when the partition moved before the commit."""
        camera = self._camera(packet.camera, owner)
        last = camera.last  # a restarted ingest counts seq from 0 again, with later times
        if last is not None and packet.seq <= last[0] and packet.captured_at <= last[1]:
            self.stats.duplicate_frames += 1
            return False
        started = time.perf_counter()
        edge = from_packet(packet)
        frame, detections = edge.frame, Detections.empty()
        if not edge.idle:
            try:
                for analyser in camera.analysers:
                    detections = analyser.analyse(frame, detections)
            except Exception:  # one bad frame must not stop the camera (as embedded)
                log.exception("frame failed", extra={"camera": packet.camera, "seq": packet.seq})
                detections = Detections.empty()
        if camera.redactor is not None:
            frame = camera.redactor.redact(frame, detections)
        result = FrameResult(frame, None, detections, skipped=edge.idle)
        outcomes = with_derived_ids(self.config.site, self.events.process(packet.camera, result))
        owner.check()  # a worker paused past its lease must not commit what it saw before
        new = self.recorder.record(outcomes, result)
        took, lag = frame_metrics()
        took.observe(time.perf_counter() - started)
        lag.observe(max(time.time() - packet.captured_at, 0.0))
        camera.last = (packet.seq, packet.captured_at)
        self.stats.last_seq[packet.camera] = packet.seq
        self.stats.frames += 1
        self.stats.events += new
        self.stats.duplicate_events += len(outcomes) - new
        for outcome in outcomes:
            log.info("event %s", outcome.event.type, extra={"camera": packet.camera,
                     "event_id": outcome.event.id, "rule": outcome.rule})  # fmt: skip
        return True

    def _camera(self, name: str, owner: _Owner) -> _Camera:
        camera = self.cameras.get(name)
        if camera is None:
            partition = owner.partition
            config = self.config.cameras[name]
            privacy = config.privacy.model_copy(update={"faces": "off", "plates": "off"})
            redactor = Redactor(privacy)  # faces and plates were covered at the edge
            analysers = build_analysers(config, self.models)
            active = redactor if redactor.active else None
            camera = _Camera(analysers, active, partition=partition, epoch=owner.epoch)
            self._name_model(name)
            self.cameras[name] = camera
            log.info("camera taken over", extra={"camera": name, "partition": partition})
        return camera

    def _name_model(self, name: str) -> None:
        steps = [getattr(step, "detect", None) for step in self.config.cameras[name].analyse]
        detect = next((step for step in steps if step is not None), None)
        if detect is not None:
            model = self.models.detector(detect.model)
            self.events.set_model(name, detect.model.partition("@")[0], model.version)

    def _progress(self) -> None:
        s = self.stats
        log.info(
            "worker: %d frames, %d events, %d duplicate events, %d cameras, partitions %s",
            s.frames, s.events, s.duplicate_events, len(self.cameras), sorted(self.partitions),
        )  # fmt: skip

    def _close(self) -> None:
        self._progress()
        self.events.close()
        self._loop.stop()
        self.models.close()


async def _ack(message: Received) -> None:
    """Ack; a failed ack (the broker away for a moment) only means the frame comes
    again, which the worker recognises, so it is logged rather than raised."""
    try:
        await message.ack()
    except BusError as exc:
        log.warning(
            "ack failed (%s); the frame will come again", exc, extra={"camera": message.key}
        )
