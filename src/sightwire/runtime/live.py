"""What the API shows of running pipelines: camera states, the latest frame, uploads.

``LiveView.observe`` is a :class:`~sightwire.runtime.runner.Runner` result listener;
it keeps each camera's newest :class:`FrameResult` (frame, detections) and counts
them, so a live stream sends each frame once.

>>> # live = LiveView(config)
>>> # runner = Runner(config, on_result=live.observe); live.attach(runner); runner.start()
>>> # live.upload("drone-1", jpeg_bytes)          # into that camera's pipeline
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sightwire.config.models import SightwireConfig
from sightwire.core import Frame
from sightwire.core.frame import Image
from sightwire.runtime.pipeline import FrameResult
from sightwire.sources.upload import UploadSource, is_upload

if TYPE_CHECKING:
    from sightwire.runtime.runner import Runner


class UploadRefusedError(Exception):
    """The camera takes no uploads now; ``status`` is the HTTP answer (409 or 503)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class CameraState:
    """A camera's source state and counters, as the API reports them."""

    state: str
    detail: str
    processed: int
    with_motion: int
    skipped_idle: int
    objects: int
    events: int
    fps: float


class LiveView:
    """Latest frames and states of a config's cameras (thread-safe)."""

    def __init__(self, config: SightwireConfig) -> None:
        self.config = config
        self.runner: Runner | None = None
        self._latest: dict[str, tuple[int, FrameResult]] = {}
        self._lock = threading.Lock()

    def attach(self, runner: Runner) -> None:
        """Follow ``runner`` (its states and its upload sources)."""
        self.runner = runner

    @property
    def running(self) -> bool:
        """Whether pipelines run in this process."""
        return self.runner is not None

    def observe(self, result: FrameResult) -> None:
        """Keep ``result`` as its camera's newest (a Runner ``on_result`` listener)."""
        camera = result.frame.camera
        with self._lock:
            count = self._latest.get(camera, (0, result))[0]
            self._latest[camera] = (count + 1, result)

    def latest(self, camera: str) -> tuple[int, FrameResult] | None:
        """The camera's newest result and how many came before it, or None."""
        with self._lock:
            return self._latest.get(camera)

    def state(self, camera: str) -> CameraState | None:
        """The camera's source state and counters; None without pipelines."""
        if self.runner is None or camera not in self.runner.stats:
            return None
        stats = self.runner.stats[camera]
        return CameraState(
            state=stats.state.value,
            detail=stats.detail,
            processed=stats.processed,
            with_motion=stats.with_motion,
            skipped_idle=stats.skipped_idle,
            objects=stats.objects,
            events=stats.events,
            fps=round(stats.rate(), 2),
        )

    def upload(self, camera: str, image: Image, captured_at: float | None = None) -> Frame:
        """Put a decoded picture into ``camera``'s pipeline; UploadRefusedError if it
        takes none, SourceError when its queue stays full."""
        config = self.config.cameras.get(camera)
        if config is None or not is_upload(config.source):
            raise UploadRefusedError(409, f"camera {camera!r} is not an upload camera")
        source = self.runner.source(camera) if self.runner is not None else None
        if not isinstance(source, UploadSource):
            raise UploadRefusedError(503, f"camera {camera!r}: pipelines are not running")
        return source.put(image, captured_at=captured_at, timeout=1.0)
