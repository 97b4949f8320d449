"""The matching stages of one frame: which detection extends which track.

Stages, in order (after ByteTrack, Zhang et al. 2022, and OC-SORT's recovery,
Cao et al. 2023); each sees only what the earlier ones left:

1. confident detections (``high_confidence`` and up) with confirmed tracks, found
   or lost, by IoU with the predicted box;
2. weak detections (``LOW_CONFIDENCE`` up to ``high_confidence``) with the tracks
   found last frame, by IoU of at least ``WEAK_IOU`` — a partly hidden object keeps
   its track, while a weak detection never starts one;
3. recovery: confident detections with the tracks found last frame, by IoU with the
   box where each was last seen — an object that stopped, turned or bounced;
4. confident detections with tentative tracks (no velocity yet), by IoU of widened
   boxes. Confident detections still left start new tracks.

A detection only ever matches a track of its own class. After a gap (skipped
frames), stages 1 and 2 accept the last-seen box as well as the predicted one.

>>> import numpy as np
>>> from sightwire.config.models import TrackOptions
>>> from sightwire.core import Detections
>>> from sightwire.tracking.kalman import MotionNoise
>>> from sightwire.tracking.tracks import TrackTable
>>> tracks = TrackTable.born(np.array([[50.0, 50, 20, 20]]), np.array([0]), MotionNoise())
>>> seen = Detections(np.array([[42, 40, 62, 60], [300, 300, 320, 320]]), [0.9, 0.8], [0, 0])
>>> m = associate_frame(tracks, seen, TrackOptions(), gap=False)
>>> m.pairs.tolist(), m.detections_left.tolist()
([[0, 0]], [1])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from sightwire.config.models import TrackOptions
from sightwire.core.detections import Detections
from sightwire.tracking.assignment import Solver, match
from sightwire.tracking.geometry import box_iou, cxcywh_to_xyxy, widen
from sightwire.tracking.tracks import TENTATIVE, TRACKED, TrackTable

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Hypothesis = Literal["predicted", "last_seen", "either"]

LOW_CONFIDENCE = 0.1
"""Detections below this confidence are ignored."""
WEAK_IOU = 0.5
"""Least IoU of a weak detection with a track (stage 2)."""
TENTATIVE_IOU = 0.3
"""Least IoU of a detection with a tentative track (stage 4), after ``BUFFER``."""
BUFFER = 0.5
"""Stage 4 widens every box by this share of its size on each side: a tentative
track has no velocity yet, so an object moving up to about its own size per frame
(fast, or at a low frame rate) can still start a track."""


@dataclass(slots=True)
class Matches:
    """Matched ``[track, detection]`` index pairs; ``reanchor`` marks pairs that
    matched the box where the track was last seen (its motion model should restart
    from there); what was left of the tracks and detections offered."""

    pairs: IntArray
    reanchor: BoolArray
    tracks_left: IntArray
    detections_left: IntArray


def associate_frame(
    tracks: TrackTable,
    detections: Detections,
    options: TrackOptions,
    gap: bool,
    solver: Solver | None = None,
) -> Matches:
    """Every stage for one frame: ``tracks_left`` are the tracks that found nothing,
    ``detections_left`` the confident detections no track took (new tracks)."""
    confidence = detections.confidence
    high = np.flatnonzero(confidence >= options.high_confidence)
    low = np.flatnonzero((confidence >= LOW_CONFIDENCE) & (confidence < options.high_confidence))
    moving: Hypothesis = "either" if gap else "predicted"
    confirmed = np.flatnonzero(tracks.state != TENTATIVE)
    first = associate(tracks, confirmed, detections, high, options.match_iou, moving, solver)
    found_last = first.tracks_left[tracks.state[first.tracks_left] == TRACKED]
    second = associate(tracks, found_last, detections, low, WEAK_IOU, moving, solver)
    third = associate(
        tracks,
        second.tracks_left,
        detections,
        first.detections_left,
        options.match_iou,
        "last_seen",
        solver,
    )
    tentative = np.flatnonzero(tracks.state == TENTATIVE)
    fourth = associate(
        tracks,
        tentative,
        detections,
        third.detections_left,
        TENTATIVE_IOU,
        "predicted",
        solver,
        buffer=BUFFER,
    )
    stages = (first, second, third, fourth)
    pairs = np.concatenate([s.pairs for s in stages])
    unmatched = np.ones(len(tracks), bool)
    unmatched[pairs[:, 0]] = False
    return Matches(
        pairs=pairs,
        reanchor=np.concatenate([s.reanchor for s in stages]),
        tracks_left=np.flatnonzero(unmatched),
        detections_left=fourth.detections_left,
    )


def associate(
    tracks: TrackTable,
    track_index: IntArray,
    detections: Detections,
    detection_index: IntArray,
    minimum: float,
    hypothesis: Hypothesis,
    solver: Solver | None = None,
    buffer: float = 0.0,
) -> Matches:
    """Match the tracks and detections at the given indices by the IoU of their
    boxes (widened by ``buffer`` of their size on each side), at least ``minimum``;
    a track's box is the predicted one, the last seen, or the better of the two."""
    if not len(track_index) or not len(detection_index):
        return Matches(np.zeros((0, 2), np.int64), np.zeros(0, bool), track_index, detection_index)
    seen = widen(detections.xyxy[detection_index], buffer)
    similarity = np.zeros((len(track_index), len(detection_index)))
    if hypothesis != "last_seen":
        similarity = box_iou(widen(cxcywh_to_xyxy(tracks.mean[track_index, :4]), buffer), seen)
    reanchor = np.zeros_like(similarity, dtype=bool)
    if hypothesis != "predicted":
        last = box_iou(widen(cxcywh_to_xyxy(tracks.last_box[track_index]), buffer), seen)
        reanchor = last > similarity
        similarity = np.maximum(similarity, last)
    same_class = tracks.class_id[track_index, None] == detections.class_id[None, detection_index]
    pairs, rows_left, cols_left = match(np.where(same_class, similarity, 0.0), minimum, solver)
    rows, cols = pairs[:, 0], pairs[:, 1]
    return Matches(
        pairs=np.stack([track_index[rows], detection_index[cols]], axis=1).reshape(-1, 2),
        reanchor=reanchor[rows, cols],
        tracks_left=track_index[rows_left],
        detections_left=detection_index[cols_left],
    )
