"""A model that follows its registry alias: promote or roll back, and running
pipelines switch to the new version without a restart.

>>> # live = LiveModel(registry, "parcels", load=lambda v: OnnxDetector(v.path))
>>> # live.current.detect(images)   # always the alias's version as of the last poll
>>> # watcher = ModelWatcher([live]).start()   # polls every 2 s in its own thread
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

from sightwire.inference.model_file import DEFAULT_ALIAS, RegistryError

if TYPE_CHECKING:  # SQLAlchemy loads only when a registry is opened
    from sightwire.inference.registry import ModelRegistry, ModelVersion

log = logging.getLogger("sightwire.models")
T = TypeVar("T")


class LiveModel(Generic[T]):
    """A loaded model (``current``) for ``ref``; :meth:`poll` swaps in a new version.

    ``NAME`` and ``NAME@ALIAS`` follow the alias; ``NAME@VERSION`` is pinned. The new
    version is loaded (and its file checked against its sha256) before the swap, so
    frames never wait for a load, and a broken new version leaves the old one serving.
    """

    def __init__(
        self, registry: ModelRegistry, ref: str, load: Callable[[ModelVersion], T]
    ) -> None:
        self.registry = registry
        self.ref = ref
        self.name, _, which = ref.partition("@")
        self.alias = which or DEFAULT_ALIAS
        self._load = load
        self.version = registry.resolve(ref)
        self.version.verify()
        self._current = load(self.version)
        self._lock = threading.Lock()

    @property
    def current(self) -> T:
        """The model to use for the next frame."""
        with self._lock:
            return self._current

    def poll(self) -> bool:
        """Switch to the alias's version if it moved; return whether it switched."""
        wanted = self.registry.alias_version(self.name, self.alias)
        if wanted is None or wanted == self.version.version:
            return False
        try:
            version = self.registry.get(self.name, wanted)
            version.verify()
            loaded = self._load(version)
        except (RegistryError, ValueError, OSError) as exc:
            log.error(
                "model %s@%s: cannot load %s, keeping %s: %s",
                self.name,
                self.alias,
                wanted,
                self.version.version,
                exc,
            )
            return False
        with self._lock:
            previous, self.version, self._current = self.version, version, loaded
        log.info(
            "model %s@%s switched %s → %s",
            self.name,
            self.alias,
            previous.version,
            version.version,
            extra={"model": self.name, "version": version.version},
        )
        return True


class ModelWatcher:
    """Polls a set of live models in one background thread."""

    def __init__(self, models: Sequence[LiveModel[object]], interval_s: float = 2.0) -> None:
        self.models = list(models)  # pinned NAME@VERSION models simply never move
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="model-watcher", daemon=True)

    def start(self) -> ModelWatcher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            for model in self.models:
                try:
                    model.poll()
                except Exception:  # the registry database may be briefly unavailable
                    log.exception("model %s: poll failed", model.ref)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
