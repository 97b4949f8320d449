"""CameraReader: one thread per camera that reads its source and hands frames on.

The thread runs ``source.frames()``, reports each state change (never each frame)
to a listener, reconnects live sources with exponential backoff and jitter, and
hands frames to the pipeline through a ``Handoff``: latest-only for live sources,
a bounded blocking queue for files. Anything that goes wrong stays inside the
reader: it ends FAILED with the reason, and other readers carry on.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sightwire.config.models import CameraConfig, ReconnectConfig
from sightwire.core import Frame
from sightwire.sources.base import (
    Source,
    SourceError,
    SourceState,
    StateChange,
    StateListener,
)
from sightwire.sources.handoff import Handoff
from sightwire.sources.registry import open_source

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class ReaderStats:
    """Counters of one reader: frames from the source, frames dropped, reconnects."""

    camera: str
    state: SourceState
    frames_read: int
    frames_dropped: int
    reconnects: int


def backoff_delay(config: ReconnectConfig, attempt: int, rand: Callable[[], float]) -> float:
    """Wait before reconnect ``attempt`` (1-based): doubling from initial_s up to max_s,
    plus a random share of up to ``jitter`` of it."""
    base = min(config.max_s, config.initial_s * 2.0 ** min(attempt - 1, 60))
    return base * (1.0 + config.jitter * rand())


class CameraReader:
    """Reads one source in its own thread; the pipeline takes frames with ``get()``.

    Typical use::

        reader = CameraReader.from_config("belt-1", config, listener).start()
        while not reader.finished:
            frame = reader.get(timeout=1.0)  # None: nothing yet, or finished
            ...
        reader.stop()

    ``get`` returns None at once when the reader is finished; ``state``/``detail``
    say why (ENDED or FAILED). ``stop()`` returns within ``STOP_TIMEOUT_S``.
    """

    def __init__(
        self,
        source: Source,
        *,
        reconnect: ReconnectConfig | None = None,
        listener: StateListener | None = None,
        queue_size: int = 8,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.source = source
        self.reconnect = reconnect or ReconnectConfig()
        self._listener = listener
        self._rand = rand
        self._handoff = Handoff(queue_size, latest_only=source.live)
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._state_lock = threading.Lock()
        self._state: SourceState | None = None
        self._detail = ""
        self._delivered = 0
        self._frames_read = 0
        self._reconnects = 0

    @classmethod
    def from_config(
        cls, camera: str, config: CameraConfig, listener: StateListener | None = None, **kw: Any
    ) -> CameraReader:
        """A reader of ``config.source`` (via the source registry) for ``camera``."""
        return cls(open_source(camera, config), reconnect=config.reconnect, listener=listener, **kw)

    @property
    def camera(self) -> str:
        """The camera this reader reads."""
        return self.source.camera

    @property
    def state(self) -> SourceState:
        """The latest state reported (CONNECTING before the thread starts)."""
        return self._state or SourceState.CONNECTING

    @property
    def detail(self) -> str:
        """Why the reader is in its state (the error when FAILED or RECONNECTING)."""
        return self._detail

    @property
    def done(self) -> bool:
        """Whether the thread has ended (ENDED or FAILED); frames may still be buffered."""
        return self._done.is_set()

    @property
    def finished(self) -> bool:
        """Whether the reader has ended and every frame has been taken."""
        return self._done.is_set() and len(self._handoff) == 0

    def stats(self) -> ReaderStats:
        """A snapshot of the counters."""
        return ReaderStats(
            self.camera, self.state, self._frames_read, self._handoff.dropped, self._reconnects
        )

    def start(self) -> CameraReader:
        """Start the reader thread (once); return self."""
        if self._thread is None:
            name = f"sightwire-reader-{self.camera}"
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()
        return self

    def get(self, timeout: float | None = None) -> Frame | None:
        """The next frame; None after ``timeout`` s, or at once when finished."""
        return self._handoff.get(timeout)

    def __iter__(self) -> Iterator[Frame]:
        """Every frame until the reader is finished (blocks while it runs)."""
        while (frame := self._handoff.get()) is not None:
            yield frame

    def frames(self, stopping: threading.Event, poll_s: float = 0.1) -> Iterator[Frame]:
        """Every frame until the reader is finished or ``stopping`` is set (looked at
        every ``poll_s`` while no frame comes): a camera thread's loop.

        >>> # for frame in reader.frames(stopping): pipeline.process(frame)
        """
        while not stopping.is_set():
            frame = self._handoff.get(poll_s)
            if frame is not None:
                yield frame
            elif self.finished:
                return

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the thread has ended; return whether it has."""
        return self._done.wait(timeout)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Interrupt the source, end the thread; return whether it ended in ``timeout``."""
        self._stopping.set()
        self.source.close()
        self._handoff.close()
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return thread is None or not thread.is_alive()
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("camera %r: reader did not stop within %.1f s", self.camera, timeout)
            return False
        return True

    def __enter__(self) -> CameraReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        """The thread: read until the end, a failure or stop(); always end in a state."""
        try:
            self._report(SourceState.CONNECTING)
            if self.source.live:
                self._run_live()
            else:
                self._run_once()
        except Exception as error:  # a bug in a source must not escape the thread
            logger.exception("camera %r: reader crashed", self.camera)
            self._report(SourceState.FAILED, f"camera {self.camera!r}: unexpected {error!r}")
        finally:
            self._handoff.close()
            self._done.set()

    def _run_once(self) -> None:
        """Read a file (or other finite source) once: ENDED at its end, FAILED on error."""
        try:
            self._pump()
        except SourceError as error:
            if not self._stopping.is_set():  # an interrupted read is no failure
                self._report(SourceState.FAILED, str(error))
                return
        self._report(SourceState.ENDED, "stopped" if self._stopping.is_set() else "end of input")

    def _run_live(self) -> None:
        """Read a live source, reconnecting after each failure until stop or max_attempts."""
        failures = 0
        while not self._stopping.is_set():
            try:
                delivered = self._pump()
                reason = f"camera {self.camera!r}: stream ended"
            except SourceError as error:
                delivered, reason = self._delivered, str(error)
            if self._stopping.is_set():
                break
            failures = 1 if delivered else failures + 1
            limit = self.reconnect.max_attempts
            if limit is not None and failures > limit:
                self._report(SourceState.FAILED, f"gave up after {limit} reconnects: {reason}")
                return
            self._report(SourceState.RECONNECTING, reason)
            delay = backoff_delay(self.reconnect, failures, self._rand)
            logger.warning("%s; reconnect attempt %d in %.1f s", reason, failures, delay)
            if self._stopping.wait(delay):
                break
            self._reconnects += 1
        self._report(SourceState.ENDED, "stopped")

    def _pump(self) -> int:
        """Move frames from one ``frames()`` run to the hand-off; return how many."""
        self._delivered = 0
        frames = self.source.frames()
        try:
            for frame in frames:
                if self._delivered == 0:
                    self._report(SourceState.STREAMING)
                self._delivered += 1
                self._frames_read += 1
                if not self._handoff.put(frame):
                    break
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()
        return self._delivered

    def _report(self, state: SourceState, detail: str = "") -> None:
        """Record ``state`` and tell the listener, once per change."""
        with self._state_lock:
            changed = state is not self._state
            self._state, self._detail = state, detail
        if not changed or self._listener is None:
            return
        try:
            self._listener(StateChange(self.camera, state, detail))
        except Exception:
            logger.exception("camera %r: state listener failed", self.camera)
