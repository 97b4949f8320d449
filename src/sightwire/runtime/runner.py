"""The run loop: a reader thread and a processing thread per camera.

>>> # runner = Runner(load_config("site.yaml"), until_end=True)
>>> # runner.start(); runner.wait(); runner.stop()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sightwire.config.models import CameraConfig, SightwireConfig
from sightwire.runtime.analysers import build_analysers
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.events import CameraEvents, OutcomeListener
from sightwire.runtime.models import ModelHub
from sightwire.runtime.output import EventOutput
from sightwire.runtime.pipeline import CameraPipeline, FrameResult
from sightwire.runtime.stats import CameraStats
from sightwire.sources import (
    CameraReader,
    Source,
    SourceError,
    SourceState,
    StateChange,
    open_source,
)

log = logging.getLogger("sightwire.run")
STOP_BUDGET_S = 2.0
ResultListener = Callable[[FrameResult], None]


class Runner:
    """Runs every camera of a config until stopped (or, with ``until_end``, until
    every file source has ended). One camera failing never stops the others."""

    def __init__(
        self,
        config: SightwireConfig,
        *,
        until_end: bool = False,
        on_result: ResultListener | None = None,
        on_outcome: OutcomeListener | None = None,
    ) -> None:
        self.config = config
        self.until_end = until_end
        self.on_result = on_result
        self.stats = {name: CameraStats(name) for name in config.cameras}
        self.models = ModelHub(config)
        self.on_outcome = on_outcome
        self._loop = EventLoopThread().start() if config.rules else None
        self.events = CameraEvents(config, self._loop) if self._loop is not None else None
        self.output = EventOutput(config, self._loop) if self._loop is not None else None
        self._readers: dict[str, CameraReader] = {}
        self._pipelines: dict[str, CameraPipeline] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._done = threading.Event()

    def start(self) -> None:
        """Open every camera and start its threads."""
        for name, camera in self.config.cameras.items():
            self._start_camera(name, camera)
        self.models.watch()
        threading.Thread(target=self._watch, name="sightwire-watch", daemon=True).start()

    def _start_camera(self, name: str, camera: CameraConfig) -> None:
        try:
            pipeline = CameraPipeline(name, camera, build_analysers(camera, self.models))
            self._name_model(name, camera)
            source = open_source(name, camera)
        except (SourceError, ValueError) as exc:  # ValueError: bad model or registry entry
            self._on_state(StateChange(name, SourceState.FAILED, str(exc)))
            return
        reader = CameraReader(source, reconnect=camera.reconnect, listener=self._on_state)
        self._readers[name] = reader
        self._pipelines[name] = pipeline
        reader.start()
        worker = threading.Thread(
            target=self._process, args=(name, reader, pipeline), name=f"process-{name}", daemon=True
        )
        self._threads.append(worker)
        worker.start()

    def _name_model(self, name: str, camera: CameraConfig) -> None:
        """Events of ``camera`` name the first model it detects with."""
        steps = [getattr(step, "detect", None) for step in camera.analyse]
        detect = next((step for step in steps if step is not None), None)
        if self.events is not None and detect is not None:
            model = self.models.detector(detect.model)
            self.events.set_model(name, detect.model.partition("@")[0], model.version)

    def apply_zones(self, camera: str, config: CameraConfig) -> None:
        """Use ``config``'s zones and lines for ``camera`` without a restart.

        ``config`` is the camera's validated settings after an edit; only its zones
        and lines are taken (rule triggers are rebuilt from them, and barcode and OCR
        steps that read inside a zone read inside its new shape).
        """
        current = self.config.cameras[camera]
        updated = current.model_copy(update={"zones": config.zones, "lines": config.lines})
        self.config.cameras[camera] = updated
        pipeline = self._pipelines.get(camera)
        if pipeline is not None:
            pipeline.use_zones(updated.zones)
        if self.events is not None:
            self.events.replace_camera(camera, updated)

    def _process(self, name: str, reader: CameraReader, pipeline: CameraPipeline) -> None:
        stats = self.stats[name]
        for frame in reader.frames(self._stopping):
            try:
                result = pipeline.process(frame)
            except Exception:  # one bad frame must not end the camera
                log.exception("frame failed", extra={"camera": name, "seq": frame.seq})
                continue
            if stats.duration_s is None:
                stats.duration_s = getattr(reader.source, "duration_s", None)
            self._events_of(name, result)
            stats.record(result)
            if self.on_result is not None:
                self.on_result(result)

    def _events_of(self, name: str, result: FrameResult) -> None:
        if self.events is None:
            return
        if self.output is not None:
            self.output.observe(result)  # clip buffers: every frame, before its events
        try:
            outcomes = self.events.process(name, result)
        except Exception:  # a rule bug must not stop the camera
            log.exception("rules failed", extra={"camera": name, "seq": result.frame.seq})
            return
        if self.output is not None:  # the frame's events in one transaction
            recorded = self.output.record_frame(outcomes, result)
        else:
            recorded = [(outcome, None) for outcome in outcomes]
        for outcome, error in recorded:
            event = outcome.event
            if error is not None:  # the database is away: the event was not accepted
                log.error(
                    "event not recorded",
                    exc_info=error,
                    extra={"camera": name, "event_id": event.id},
                )
                continue
            log.info(
                "event %s",
                event.type,
                extra={"camera": name, "event_id": event.id, "rule": event.data.rule},
            )
            if self.on_outcome is not None:
                self.on_outcome(outcome, result)

    def _on_state(self, change: StateChange) -> None:
        stats = self.stats[change.camera]
        stats.state, stats.detail = change.state, change.detail
        level = logging.ERROR if change.state is SourceState.FAILED else logging.INFO
        log.log(
            level,
            "camera %s",
            change.state.value,
            extra={"camera": change.camera, "state": change.state.value, "detail": change.detail},
        )

    def _watch(self) -> None:
        """With ``until_end``, finish once every camera's frames are all processed."""
        while not self._stopping.wait(0.05):
            if self.until_end and not any(t.is_alive() for t in self._threads):
                break
        self._done.set()

    def source(self, camera: str) -> Source | None:
        """The source ``camera`` reads once started (an ``UploadSource`` for ``upload``)."""
        reader = self._readers.get(camera)
        return reader.source if reader is not None else None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run is over (stopped, or every file ended with ``until_end``)."""
        return self._done.wait(timeout)

    def drain(self, timeout: float) -> int:
        """Wait until every recorded event is delivered; return deliveries still pending."""
        return self.output.drain(timeout) if self.output is not None else 0

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for (a signal), rather than the files ending."""
        return self._stopping.is_set()

    def request_stop(self) -> None:
        """Ask the run to end (safe from a signal handler); :meth:`wait` then returns."""
        self._stopping.set()

    def stop(self) -> None:
        """Stop every reader and processing thread, within about two seconds."""
        self._stopping.set()
        deadline = time.monotonic() + STOP_BUDGET_S
        for reader in self._readers.values():
            reader.stop(timeout=max(0.1, deadline - time.monotonic()))
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.models.close()
        if self.events is not None and self._loop is not None:
            if self.output is not None:
                self.output.close()
            self.events.close()
            self._loop.stop()
            self.events = None
        self._done.set()

    def summary(self) -> list[dict[str, Any]]:
        """One plain-data row per camera."""
        return [
            s.summary(_reader_counts(self._readers.get(name))) for name, s in self.stats.items()
        ]

    @property
    def failed(self) -> Mapping[str, str]:
        """Cameras that failed, with the reason."""
        return {n: s.detail for n, s in self.stats.items() if s.state is SourceState.FAILED}


def _reader_counts(reader: CameraReader | None) -> dict[str, int]:
    if reader is None:
        return {"frames": 0, "dropped": 0, "reconnects": 0}
    stats = reader.stats()
    return {
        "frames": stats.frames_read,
        "dropped": stats.frames_dropped,
        "reconnects": stats.reconnects,
    }
