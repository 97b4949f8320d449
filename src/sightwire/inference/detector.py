"""Object detection with an ONNX model, and the analyser that runs it on frames.

:class:`OnnxDetector` letterboxes BGR images, runs them through the model (all in
one session run when the model's batch axis is dynamic), decodes the outputs with
the decoder its output shapes call for, and returns :class:`Detections` in each
image's pixels, with the class names in ``data["class_name"]``.

>>> detector = OnnxDetector("models/parcels.onnx", confidence=0.4)  # doctest: +SKIP
>>> per_image = detector.detect([frame_a.image, frame_b.image])     # doctest: +SKIP
>>> per_image[0].data["class_name"]                                  # doctest: +SKIP
array(['parcel', 'label'], dtype='<U6')
>>> analyser = DetectAnalyser(detector, classes=["parcel"])         # doctest: +SKIP
>>> detections = analyser.analyse(frame, Detections.empty())         # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from sightwire.config.models import ModelConfig
from sightwire.core.detections import Detections
from sightwire.core.frame import Frame, Image
from sightwire.inference.decoders import DecodeParams, OutputLayout, choose_decoder
from sightwire.inference.letterbox import Size, make_blob
from sightwire.inference.onnx_runner import OnnxRunner

CLASS_NAME = "class_name"
"""The ``Detections.data`` column holding each object's class name."""

NEAR_THRESHOLD = "near_threshold"
"""``Frame.metadata`` key: a list of :class:`NearThreshold`, one per ``detect`` step that
keeps them. For the review sampler only: rules and later analysers never see them."""


@dataclass(frozen=True, slots=True)
class NearThreshold:
    """A detect step's objects down to ``threshold - band`` (in frame pixels), the
    step's threshold, and the model (``NAME@VERSION``) that found them."""

    detections: Detections
    threshold: float
    model: str | None


class Detector(Protocol):
    """Anything that finds objects in a batch of BGR images (ONNX, Darknet, fakes)."""

    @property
    def input_size(self) -> Size: ...

    @property
    def class_names(self) -> list[str]: ...

    def detect(self, images: Sequence[Image]) -> list[Detections]: ...


class OnnxDetector:
    """A detector (or segmenter, or classifier) backed by an ONNX model file."""

    def __init__(
        self,
        path: str | Path,
        *,
        providers: Sequence[str] = ("CPU",),
        threads: int | None = None,
        confidence: float = 0.25,
        iou: float = 0.45,
        labels: Sequence[str] | None = None,
        input_size: Size | None = None,
        task: str | None = None,
        layout: str | None = None,
        max_detections: int = 300,
        max_batch: int = 16,
    ) -> None:
        """Load the model and choose its decoder.

        ``labels`` name the classes when the model's metadata does not; ``task``
        (detect, segment, classify; default: the metadata's, else any) and
        ``layout`` (a name from ``DECODERS``) settle models whose outputs are
        ambiguous; ``max_batch`` caps how many images go into one session run.
        Raises ``UnknownLayoutError`` when the outputs fit no decoder.
        """
        self.runner = OnnxRunner(path, providers=providers, threads=threads, input_size=input_size)
        self.names: list[str] = self.runner.class_names or list(labels or [])
        self.params = DecodeParams(confidence=confidence, iou=iou, max_detections=max_detections)
        self.max_batch = max_batch
        self.layout = OutputLayout(
            shapes=self.runner.output_shapes,
            input_size=self.runner.input_size,
            class_count=len(self.names) or None,
            end_to_end=self.runner.end_to_end,
        )
        self.task = task or self.runner.task
        try:
            self.spec, self.decoder = choose_decoder(self.layout, self.task, layout)
        except ValueError as exc:
            raise type(exc)(f"{self.runner.path}: {exc}") from None

    @classmethod
    def from_config(cls, config: ModelConfig, path: str | Path | None = None) -> OnnxDetector:
        """The detector a ``models:`` entry of the config describes; ``path`` overrides
        its ``path`` (e.g. the file the model registry resolved)."""
        path = path if path is not None else config.path
        if path is None:
            raise ValueError("the model has no path; resolve it through the model registry")
        return cls(
            path,
            providers=config.providers,
            threads=config.threads,
            confidence=config.confidence,
            iou=config.iou,
            labels=config.labels,
            task=config.task,
            max_batch=config.max_batch,
        )

    @property
    def input_size(self) -> Size:
        """(height, width) the model takes."""
        return self.runner.input_size

    @property
    def class_names(self) -> list[str]:
        """Class names by id (from the model's metadata, else the configured labels)."""
        return self.names

    def detect(self, images: Sequence[Image]) -> list[Detections]:
        """Objects of each BGR image (H, W, 3 uint8), in that image's pixels.

        Images go through the model together, ``max_batch`` at a time, when its
        batch axis is dynamic; one by one (or in its fixed batch size) otherwise.
        """
        for image in images:
            _check_image(image)
        results: list[Detections] = []
        step = self.max_batch if self.runner.dynamic_batch else self.runner.batch_size or 1
        for start in range(0, len(images), step):
            results.extend(self._detect_batch(images[start : start + step]))
        return results

    def _detect_batch(self, images: Sequence[Image]) -> list[Detections]:
        blob, placements = make_blob(images, self.input_size, self.runner.input_dtype)
        fixed = self.runner.batch_size
        if fixed is not None and len(images) < fixed:  # fill a fixed batch with padding
            padding = np.zeros((fixed - len(images), *blob.shape[1:]), blob.dtype)
            blob = np.concatenate([blob, padding])
        outputs = self.runner.run(blob)
        return [
            self._named(self.decoder.decode([o[i] for o in outputs], placement, self.params))
            for i, placement in enumerate(placements)
        ]

    def _named(self, detections: Detections) -> Detections:
        detections.data[CLASS_NAME] = names_of(detections.class_id, self.names)
        return detections


def names_of(class_ids: npt.NDArray[np.int64], names: Sequence[str]) -> npt.NDArray[np.str_]:
    """The name of each class id (its number as text when it has no name)."""
    table = np.array([*names, ""], dtype=str)
    known = (class_ids >= 0) & (class_ids < len(names))
    named = table[np.where(known, class_ids, len(names))]
    if not known.all():
        named = np.where(known, named, class_ids.astype(str))
    return named


def _check_image(image: Any) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", type(image).__name__)
        raise ValueError(f"expected a BGR image of shape (H, W, 3), got {shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")


class DetectAnalyser:
    """The ``detect`` step of a camera's ``analyse`` list: runs ``detector`` on each
    frame, keeps objects at or above ``confidence`` (when stricter than the
    detector's) of the named ``classes`` (all when None), and adds them to the
    detections so far.

    >>> analyser = DetectAnalyser(detector, confidence=0.5, classes=["person"])  # doctest: +SKIP
    >>> analyser.analyse(frame, Detections.empty())                            # doctest: +SKIP
    """

    def __init__(
        self,
        detector: Detector,
        confidence: float | None = None,
        classes: Sequence[str] | None = None,
    ) -> None:
        names = set(detector.class_names)
        unknown = sorted(set(classes or []) - names) if names else []
        if unknown:
            raise ValueError(
                f"classes {unknown} are not among the model's: {', '.join(detector.class_names)}"
            )
        self.detector = detector
        self.confidence = confidence
        self.classes = None if classes is None else np.array(list(classes), dtype=str)
        self.review_band: float | None = None
        self.model_name: Callable[[], str | None] = lambda: None

    def keep_near_threshold(self, band: float, model_name: Callable[[], str | None]) -> None:
        """Also note the objects down to ``confidence - band`` in the frame's metadata
        (:data:`NEAR_THRESHOLD`), for the active-learning sampler. The detector must
        report them: run it at that lower confidence (the run loop's models do when
        ``review.enabled``); this step still passes on only those at ``confidence``.

        >>> # analyser.keep_near_threshold(0.15, lambda: "parcels@3")
        """
        if self.confidence is None:
            raise ValueError("keeping near-threshold objects needs the step's confidence")
        self.review_band = band
        self.model_name = model_name

    def find(self, frame: Frame) -> Detections:
        """Every object the detector reports in ``frame.image``, before this step's filters."""
        return self.detector.detect([frame.image])[0]

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """``detections`` plus the objects found in ``frame.image``."""
        found = self.find(frame)
        if self.review_band is not None and self.confidence is not None:
            self._note_near(frame, found, self.confidence, self.review_band)
        return Detections.merge([detections, self.keep(found)])

    def _note_near(self, frame: Frame, found: Detections, threshold: float, band: float) -> None:
        near = found[self._class_wanted(found) & (found.confidence >= threshold - band - 1e-6)]
        if len(near):  # the pipeline gave this frame its own metadata dict
            entry = NearThreshold(near, threshold, self.model_name())
            frame.metadata.setdefault(NEAR_THRESHOLD, []).append(entry)

    def keep(self, found: Detections) -> Detections:
        """The objects that pass this step's confidence and class filters."""
        wanted = self._class_wanted(found)
        if self.confidence is not None:
            wanted &= found.confidence >= self.confidence
        return found if wanted.all() else found[wanted]

    def _class_wanted(self, found: Detections) -> npt.NDArray[np.bool_]:
        wanted = np.ones(len(found), bool)
        if self.classes is not None:
            names = found.data.get(CLASS_NAME)
            if names is None:
                names = names_of(found.class_id, self.detector.class_names)
            wanted &= np.isin(names, self.classes)
        return wanted
