"""Region inference (as Frigate does): detect on model-sized crops around motion.

A 4K camera letterboxed whole into a 640 px model shrinks a parcel to a few
pixels; a 640 px crop around the motion keeps it sharp. :func:`plan_regions` turns
the motion gate's boxes into square crops: nearby boxes are merged, each crop is at
least the model's size, centred on its motion, kept inside the frame; crops that
overlap much become one. When the crops would be more than ``max_regions`` or cover
most of the frame, the whole frame is one region (one model run sees it all).
:func:`detect_in_regions` runs the detector on every crop in one batch, maps the
objects back to frame pixels, and reports an object seen by two crops once.

The pipeline hands motion boxes to :class:`RegionDetectAnalyser` in
``frame.metadata["motion_boxes"]`` (xyxy frame pixels, ``MotionResult.boxes``).

>>> import numpy as np
>>> plan_regions(np.array([[100, 100, 140, 180]], np.float32), (1080, 1920), 320).tolist()
[[0, 0, 320, 320]]
>>> analyser = RegionDetectAnalyser(detector)  # doctest: +SKIP
>>> frame = frame.with_image(frame.image, motion_boxes=motion.boxes)  # doctest: +SKIP
>>> detections = analyser.analyse(frame, Detections.empty())  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections
from sightwire.core.frame import MOTION_BOXES, Frame, Image
from sightwire.inference.detector import DetectAnalyser, Detector
from sightwire.inference.letterbox import Size
from sightwire.inference.nms import pairwise_iou
from sightwire.stages import merge_boxes

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]
EDGE_PX = 2.0
"""A box this close to a crop's inner edge was cut by the crop."""
SAME_OBJECT = 0.6
"""Share of the smaller box two boxes must share to be one object seen twice."""
REGION_OVERLAP = 0.5
"""Share of the smaller crop two crops may share before they are merged."""


def plan_regions(
    motion_boxes: npt.ArrayLike,
    frame_size: Size,
    region_size: int,
    *,
    margin: float = 0.1,
    merge_distance: float | None = None,
    max_regions: int = 4,
    max_coverage: float = 0.6,
) -> IntArray:
    """Crops (M, 4) xyxy in frame pixels to detect on, for motion ``boxes`` (N, 4).

    Each box grows by ``margin`` of its size; boxes closer than ``merge_distance``
    (default a quarter of ``region_size``) share a crop; crops are squares of at least
    ``region_size`` (smaller only where the frame is). No motion gives no crops; more
    than ``max_regions`` crops, or crops covering ``max_coverage`` of the frame or
    more, give the whole frame.
    """
    fh, fw = frame_size
    boxes = _grown(np.asarray(motion_boxes, np.float32).reshape(-1, 4), margin, frame_size)
    if len(boxes) == 0:
        return np.zeros((0, 4), np.int64)
    gap = region_size / 4 if merge_distance is None else merge_distance
    clusters = _merge_near(boxes, gap)
    regions = [_square(c, region_size, frame_size) for c in clusters]
    regions = _merge_overlapping(regions, clusters, region_size, frame_size)
    area = sum((r[2] - r[0]) * (r[3] - r[1]) for r in regions)
    if len(regions) > max_regions or area >= max_coverage * fw * fh:
        return np.array([[0, 0, fw, fh]], np.int64)
    return np.array(regions, np.int64).reshape(-1, 4)


def _grown(boxes: FloatArray, margin: float, frame_size: Size) -> FloatArray:
    fh, fw = frame_size
    pad = (boxes[:, 2:] - boxes[:, :2]) * margin
    grown = np.concatenate([boxes[:, :2] - pad, boxes[:, 2:] + pad], axis=1)
    grown = np.clip(grown, 0, np.array([fw, fh, fw, fh], np.float32))
    keep = (grown[:, 2] > grown[:, 0]) & (grown[:, 3] > grown[:, 1])
    kept: FloatArray = grown[keep].astype(np.float32)
    return kept


def _merge_near(boxes: FloatArray, gap: float) -> list[list[float]]:
    """Boxes closer than ``gap`` merged into their union boxes."""
    half = np.float32(gap / 2)
    grown = boxes + np.array([-half, -half, half, half], np.float32)
    merged = merge_boxes(grown) - np.array([-half, -half, half, half], np.float32)
    return [[float(v) for v in box] for box in merged]


def _square(box: Sequence[float], side: int, frame_size: Size) -> list[int]:
    """A square of at least ``side`` centred on ``box``, shifted inside the frame."""
    fh, fw = frame_size
    size = max(side, round(box[2] - box[0]), round(box[3] - box[1]))
    x1, x2 = _span((box[0] + box[2]) / 2, size, fw)
    y1, y2 = _span((box[1] + box[3]) / 2, size, fh)
    return [x1, y1, x2, y2]


def _span(centre: float, size: int, limit: int) -> tuple[int, int]:
    if size >= limit:
        return 0, limit
    start = min(max(0, round(centre - size / 2)), limit - size)
    return start, start + size


def _merge_overlapping(
    regions: list[list[int]], clusters: list[list[float]], side: int, frame_size: Size
) -> list[list[int]]:
    """Crops sharing more than ``REGION_OVERLAP`` of the smaller one become one crop
    around both clusters, until no two do."""
    regions, clusters = list(regions), list(clusters)
    merged = True
    while merged and len(regions) > 1:
        merged = False
        for i in range(len(regions)):
            for j in range(i + 1, len(regions)):
                if _overlap_of_smaller(regions[i], regions[j]) > REGION_OVERLAP:
                    a, b = clusters[i], clusters[j]
                    union = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    clusters[i], regions[i] = union, _square(union, side, frame_size)
                    del clusters[j], regions[j]
                    merged = True
                    break
            if merged:
                break
    return regions


def _overlap_of_smaller(a: Sequence[float], b: Sequence[float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(w * h / max(smaller, 1e-9))


def detect_in_regions(detector: Detector, image: Image, regions: npt.ArrayLike) -> Detections:
    """Objects found in each crop ``regions`` (M, 4) of ``image`` (one batched call),
    in frame pixels, each object reported once."""
    crops = np.asarray(regions, np.int64).reshape(-1, 4)
    size = (int(image.shape[0]), int(image.shape[1]))
    return report_once(detect_crops(detector, image, crops), crops, size)


def detect_crops(detector: Detector, image: Image, crops: IntArray) -> list[Detections]:
    """The objects of each crop (one batched call), moved to frame pixels."""
    if len(crops) == 0:
        return []
    fh, fw = int(image.shape[0]), int(image.shape[1])
    found = detector.detect([image[y1:y2, x1:x2] for x1, y1, x2, y2 in crops.tolist()])
    return [_in_frame(d, crop, (fh, fw)) for d, crop in zip(found, crops, strict=True)]


def report_once(parts: Sequence[Detections], crops: IntArray, frame_size: Size) -> Detections:
    """The objects of :func:`detect_crops`, each reported once (see :func:`once_per_object`)."""
    if len(parts) <= 1:
        return parts[0] if parts else Detections.empty()
    cut = [_cut_by_crop(d.xyxy, crop, frame_size) for d, crop in zip(parts, crops, strict=True)]
    origin = [np.full(len(d), i) for i, d in enumerate(parts)]
    merged = Detections.merge(parts)
    if len(merged) == 0:
        return merged
    return once_per_object(merged, np.concatenate(origin), np.concatenate(cut))


def _in_frame(found: Detections, crop: IntArray, frame_size: Size) -> Detections:
    """``found`` in a crop moved to frame pixels (masks pasted into frame-sized ones)."""
    x1, y1, x2, y2 = (int(v) for v in crop)
    moved = found.shifted(x1, y1)
    if moved.mask is None:
        return moved
    mask = np.zeros((len(moved), *frame_size), bool)
    mask[:, y1:y2, x1:x2] = moved.mask
    return replace(moved, mask=mask)


def _cut_by_crop(xyxy: FloatArray, crop: IntArray, frame_size: Size) -> npt.NDArray[np.bool_]:
    """Which boxes touch an edge of ``crop`` that is not an edge of the frame."""
    fh, fw = frame_size
    x1, y1, x2, y2 = (float(v) for v in crop)
    cut = np.zeros(len(xyxy), bool)
    if x1 > 0:
        cut |= xyxy[:, 0] <= x1 + EDGE_PX
    if y1 > 0:
        cut |= xyxy[:, 1] <= y1 + EDGE_PX
    if x2 < fw:
        cut |= xyxy[:, 2] >= x2 - EDGE_PX
    if y2 < fh:
        cut |= xyxy[:, 3] >= y2 - EDGE_PX
    return cut


def once_per_object(
    detections: Detections, origin: IntArray, cut: npt.NDArray[np.bool_]
) -> Detections:
    """Objects seen by several crops reported once: whole boxes win over boxes cut by
    a crop's edge, then the more confident; two cut parts of one object (same class,
    touching, lined up) become their union box. ``origin`` is each box's crop."""
    order = np.lexsort((-detections.confidence, cut))  # whole first, then by confidence
    xyxy = detections.xyxy.copy()
    mask = None if detections.mask is None else detections.mask.copy()
    kept: list[int] = []
    for i in order.tolist():
        twin = _seen_before(i, kept, xyxy, detections.class_id, origin, cut)
        if twin == NEW:
            kept.append(i)
        elif twin != DUPLICATE:  # both cut: the kept one grows to cover both parts
            xyxy[twin, :2] = np.minimum(xyxy[twin, :2], xyxy[i, :2])
            xyxy[twin, 2:] = np.maximum(xyxy[twin, 2:], xyxy[i, 2:])
            if mask is not None:
                mask[twin] |= mask[i]
    chosen = np.array(kept, np.int64)
    return replace(
        detections[chosen], xyxy=xyxy[chosen], mask=None if mask is None else mask[chosen]
    )


NEW, DUPLICATE = -1, -2


def _seen_before(
    i: int,
    kept: list[int],
    xyxy: FloatArray,
    class_id: IntArray,
    origin: IntArray,
    cut: npt.NDArray[np.bool_],
) -> int:
    """``NEW`` if box ``i`` is a new object, ``DUPLICATE`` if another crop's kept box
    already shows it, or the kept box it joins (both cut by their crops)."""
    others = [k for k in kept if class_id[k] == class_id[i] and origin[k] != origin[i]]
    if not others:
        return NEW
    boxes = xyxy[others]
    top_left = np.maximum(boxes[:, :2], xyxy[i, :2])
    bottom_right = np.minimum(boxes[:, 2:], xyxy[i, 2:])
    span = np.clip(bottom_right - top_left, 0, None)  # (K, 2) shared width, height
    sizes = np.minimum(boxes[:, 2:] - boxes[:, :2], xyxy[i, 2:] - xyxy[i, :2])
    share = span.prod(axis=1) / np.maximum(sizes.prod(axis=1), 1e-9)
    iou = pairwise_iou(xyxy[i], boxes)[0]
    for k, other in enumerate(others):
        lined_up = span[k].min() > 0 and (span[k] / np.maximum(sizes[k], 1e-9)).max() > SAME_OBJECT
        if cut[i] and cut[other] and lined_up:
            return other
        if share[k] > SAME_OBJECT or iou[k] > SAME_OBJECT:
            return DUPLICATE
    return NEW


class RegionDetectAnalyser(DetectAnalyser):
    """The ``detect`` step with ``regions: true``: detects on crops around the motion
    boxes in ``frame.metadata["motion_boxes"]`` (the whole frame when there are none
    recorded; nothing when motion found nothing)."""

    def __init__(
        self,
        detector: Detector,
        confidence: float | None = None,
        classes: Sequence[str] | None = None,
        *,
        max_regions: int = 4,
        max_coverage: float = 0.6,
    ) -> None:
        super().__init__(detector, confidence, classes)
        self.max_regions = max_regions
        self.max_coverage = max_coverage

    def regions_of(self, frame: Frame) -> IntArray:
        """The crops this analyser would detect on in ``frame``."""
        boxes = frame.metadata.get(MOTION_BOXES)
        if boxes is None:
            return np.array([[0, 0, frame.width, frame.height]], np.int64)
        return plan_regions(
            boxes,
            (frame.height, frame.width),
            max(self.detector.input_size),
            max_regions=self.max_regions,
            max_coverage=self.max_coverage,
        )

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """``detections`` plus the objects found around the motion in ``frame``.

        The step's filters apply to each crop's objects before they are reported once,
        so an object below the threshold never stands in for one above it (the model
        may report lower ones for the review sampler: see ``keep_near_threshold``).
        """
        crops = self.regions_of(frame)
        parts = detect_crops(self.detector, frame.image, crops)
        size = (frame.height, frame.width)
        if self.review_band is not None and self.confidence is not None:
            near = report_once(parts, crops, size)
            self._note_near(frame, near, self.confidence, self.review_band)
        found = report_once([self.keep(part) for part in parts], crops, size)
        return Detections.merge([detections, found])
