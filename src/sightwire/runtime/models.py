"""Models of a config, loaded once per process and shared by its cameras.

Each model named in ``models:`` becomes one :class:`SharedDetector`: frames of every
camera that uses it go through one :class:`ModelBatcher`, so they share model calls;
a model taken from the registry follows its alias (promote, rollback) while running.

>>> # hub = ModelHub(config); detector = hub.detector("parcels")
>>> # per_image = detector.detect([image])     # batched with other cameras' frames
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sightwire.config.models import ModelConfig, SightwireConfig
from sightwire.core import Detections
from sightwire.core.frame import Image
from sightwire.inference.detector import OnnxDetector
from sightwire.inference.letterbox import Size
from sightwire.inference.live_model import LiveModel, ModelWatcher
from sightwire.runtime.batching import ModelBatcher

if TYPE_CHECKING:  # the registry (and SQLAlchemy) loads only when a model uses it
    from sightwire.inference.registry import ModelRegistry, ModelVersion

log = logging.getLogger("sightwire.models")
MIN_CONFIDENCE = 0.01  # below this a model reports noise, however wide the review band


class SharedDetector:
    """A detector shared by cameras: batched calls, and the model may be swapped live.

    ``current`` returns the model to use now; each batch takes it once, so a swap
    happens between batches, never inside one.
    """

    def __init__(
        self, ref: str, model: OnnxDetector | LiveModel[OnnxDetector], max_batch: int
    ) -> None:
        self.ref = ref
        self._model = model
        self._batcher: ModelBatcher[Image, Detections] = ModelBatcher(self._run, max_batch)

    def current(self) -> OnnxDetector:
        """The model serving now."""
        model = self._model
        return model.current if isinstance(model, LiveModel) else model

    def _run(self, images: Sequence[Image]) -> list[Detections]:
        return self.current().detect(images)

    @property
    def input_size(self) -> Size:
        return self.current().input_size

    @property
    def class_names(self) -> list[str]:
        return self.current().class_names

    @property
    def version(self) -> str:
        """The registry version serving now (``file`` for a model given by path)."""
        model = self._model
        return model.version.version if isinstance(model, LiveModel) else "file"

    @property
    def calls(self) -> int:
        """Model calls made so far (several frames may share one)."""
        return self._batcher.calls

    @property
    def images(self) -> int:
        """Images (frames or crops) run through the model so far."""
        return self._batcher.items

    def detect(self, images: Sequence[Image]) -> list[Detections]:
        """Detections per image, sharing model calls with other cameras' frames."""
        return self._batcher.infer_many(images)

    def close(self) -> None:
        self._batcher.close()


class ModelHub:
    """Loads the models a config's cameras use, each once."""

    def __init__(self, config: SightwireConfig, registry: ModelRegistry | None = None) -> None:
        self.config = config
        self._registry = registry
        self._detectors: dict[str, SharedDetector] = {}
        self._live: list[LiveModel[OnnxDetector]] = []
        self._watcher: ModelWatcher | None = None
        self.watch_interval_s = 2.0  # how often registry aliases are checked

    @property
    def review_band(self) -> float | None:
        """How far below its threshold a model reports objects, for the review sampler
        (``review.band``; None when sampling is off, or when the run records nothing:
        without rules there is no store to sample into). The ``detect`` steps still
        pass on only those at the threshold."""
        review = self.config.review
        return review.band if review.enabled and self.config.rules else None

    def detector(self, ref: str) -> SharedDetector:
        """The shared detector for ``NAME`` or ``NAME@VERSION`` (loaded on first use)."""
        if ref not in self._detectors:
            self._detectors[ref] = self._load(ref)
        return self._detectors[ref]

    def _load(self, ref: str) -> SharedDetector:
        name = ref.partition("@")[0]
        model = self.config.models[name]
        floor = max(MIN_CONFIDENCE, model.confidence - (self.review_band or 0.0))
        model = model.model_copy(update={"confidence": floor})
        if model.path is not None:
            return SharedDetector(ref, _onnx(Path(model.path), model), model.max_batch)
        live = LiveModel(self.registry(), ref, load=lambda v: _onnx(v.path, model, v))
        self._live.append(live)
        log.info("model %s: serving version %s", ref, live.version.version)
        return SharedDetector(ref, live, model.max_batch)

    def registry(self) -> ModelRegistry:
        if self._registry is None:
            from sightwire.inference.registry import ModelRegistry

            store = self.config.store
            folder = Path(store.blobs.removeprefix("file://")) / "models"
            self._registry = ModelRegistry(store.database, folder, tls=store.tls)
        return self._registry

    def watch(self) -> None:
        """Start following registry aliases (a no-op when no model uses the registry)."""
        if self._live and self._watcher is None:
            live: list[LiveModel[object]] = list(self._live)  # type: ignore[arg-type]
            self._watcher = ModelWatcher(live, self.watch_interval_s).start()

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        for detector in self._detectors.values():
            detector.close()


def _onnx(path: Path, model: ModelConfig, version: ModelVersion | None = None) -> OnnxDetector:
    labels = model.labels or (version.labels if version is not None else None)
    return OnnxDetector(
        path,
        providers=model.providers,
        threads=model.threads,
        confidence=model.confidence,
        iou=model.iou,
        labels=labels,
        task=model.task,
        max_batch=model.max_batch,
    )
