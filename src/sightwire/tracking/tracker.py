"""ByteTrack-style multi-object tracking of one camera's detections.

Each frame, every track's box is predicted to the frame's time by a Kalman filter,
then detections are matched to tracks by IoU in stages (see
:mod:`sightwire.tracking.association`): confident detections first, then weak ones
to the tracks still unmatched, then recovery of tracks whose object stopped or
turned, then tentative tracks; confident detections left over start new tracks. A
detection only ever matches a track of its own class.

A tentative track is confirmed (and given an id) after ``min_hits`` frames in a
row, and dropped at its first miss. A confirmed track that is missed becomes lost;
it is dropped once ``max_age_s`` of stream time (``pts``) has passed since the
first frame that missed it. Frames the motion gate skipped are no evidence that
anything left, so a still object keeps its id through any idle spell; and on the
first frame after such a gap (a time step over three times the usual one) a track
may match where it was last seen as well as where its velocity would have taken
it (a belt that stopped).

>>> import numpy as np
>>> from sightwire.core import Detections
>>> tracker = ByteTracker()
>>> def box(x): return Detections(np.array([[x, 10, x + 20, 30]]), [0.9], [0])
>>> [tracker.update(box(10 + 2 * i), pts=i / 25).tracker_id.tolist() for i in range(3)]
[[], [1], [1]]
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from sightwire.config.models import TrackOptions
from sightwire.core.detections import Detections
from sightwire.tracking.assignment import Solver
from sightwire.tracking.association import Matches, associate_frame
from sightwire.tracking.geometry import xyxy_to_cxcywh
from sightwire.tracking.kalman import MotionNoise, predict, update
from sightwire.tracking.tracks import LOST, TENTATIVE, TRACKED, TrackTable

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]

GAP_FACTOR = 3.0
"""A time step this many times the usual one is a gap (skipped frames)."""
USUAL_STEP_RATE = 0.1
"""How fast the estimate of the usual time step follows the stream."""


class ByteTracker:
    """Gives the detections of one camera ids that persist from frame to frame.

    Feed it each analysed frame's detections with the frame's ``pts`` (seconds);
    it returns the detections that belong to confirmed tracks, in input order, with
    ``tracker_id`` set. Detections it did not keep are false positives by its
    reckoning: weak ones that extend no track, or confident ones whose track is not
    yet confirmed. Ids count up from 1 and are never reused, not even after
    :meth:`reset`. ``solver`` overrides the assignment solver (see
    :mod:`sightwire.tracking.assignment`).

    >>> import numpy as np
    >>> from sightwire.config.models import TrackOptions
    >>> from sightwire.core import Detections
    >>> tracker = ByteTracker(TrackOptions(min_hits=1, max_age_s=0.5))
    >>> parcel = Detections(np.array([[0, 0, 40, 30]]), [0.8], [0])
    >>> tracker.update(parcel, pts=0.0).tracker_id.tolist()
    [1]
    """

    def __init__(
        self,
        options: TrackOptions | None = None,
        noise: MotionNoise | None = None,
        solver: Solver | None = None,
    ) -> None:
        self.options = options or TrackOptions()
        self.noise = noise or MotionNoise()
        self.solver = solver
        self._next_id = 1
        self.reset()

    def reset(self) -> None:
        """Forget every track and the stream's clock (ids still never repeat)."""
        self._tracks = TrackTable.empty()
        self._last_pts: float | None = None
        self._usual_step: float | None = None

    @property
    def tracks(self) -> TrackTable:
        """Every live track (tentative, tracked and lost), e.g. to draw lost ones."""
        return self._tracks

    def update(self, detections: Detections, pts: float) -> Detections:
        """Match ``detections`` of the frame at ``pts`` seconds to the tracks; return
        those on confirmed tracks, with ``tracker_id``. A ``pts`` earlier than the
        previous frame's (a looped file, a restarted stream) starts afresh."""
        if not math.isfinite(pts):
            raise ValueError(f"pts must be a finite number of seconds, got {pts!r}")
        step, gap = self._advance(pts)
        self._expire(pts)
        tracks = self._tracks
        tracks.mean, tracks.cov = predict(tracks.mean, tracks.cov, step, self.noise)
        boxes = xyxy_to_cxcywh(detections.xyxy)
        matches = associate_frame(tracks, detections, self.options, gap, self.solver)
        self._correct(matches, boxes)
        ids = np.full(len(detections), -1, np.int64)
        matched, found = matches.pairs[:, 0], matches.pairs[:, 1]
        ids[found] = np.where(tracks.state[matched] == TRACKED, tracks.ids[matched], -1)
        self._age(matches.tracks_left, pts)
        born = matches.detections_left
        ids[born] = self._birth(boxes[born], detections.class_id[born])
        kept = detections[ids >= 0]
        kept.tracker_id = ids[ids >= 0]
        return kept

    def _advance(self, pts: float) -> tuple[float, bool]:
        """Seconds since the previous frame, and whether that step is a gap."""
        if self._last_pts is not None and pts < self._last_pts:
            self.reset()
        step = 0.0 if self._last_pts is None else pts - self._last_pts
        usual = self._usual_step
        gap = usual is not None and step > GAP_FACTOR * usual
        if step > 0 and not gap:
            self._usual_step = step if usual is None else usual + USUAL_STEP_RATE * (step - usual)
        self._last_pts = pts
        return step, gap

    def _expire(self, pts: float) -> None:
        """Drop the tracks lost for longer than ``max_age_s``."""
        tracks = self._tracks
        dead = (tracks.state == LOST) & (pts - tracks.lost_since > self.options.max_age_s)
        if dead.any():
            self._tracks = tracks.take(~dead)

    def _correct(self, matches: Matches, boxes: Array) -> None:
        """Update matched tracks with their detections; confirm those with enough hits.
        A track that matched where it was last seen restarts from there, at rest."""
        tracks = self._tracks
        t, d = matches.pairs[:, 0], matches.pairs[:, 1]
        mean = tracks.mean[t]
        mean[matches.reanchor, :4] = tracks.last_box[t[matches.reanchor]]
        mean[matches.reanchor, 4:] = 0.0
        tracks.mean[t], tracks.cov[t] = update(mean, tracks.cov[t], boxes[d], self.noise)
        tracks.last_box[t] = boxes[d]
        tracks.hits[t] += 1
        tracks.lost_since[t] = np.nan
        tracks.state[t[tracks.state[t] == LOST]] = TRACKED
        ready = (tracks.state[t] == TENTATIVE) & (tracks.hits[t] >= self.options.min_hits)
        self._confirm(t[ready])

    def _age(self, missed: IntArray, pts: float) -> None:
        """Tracks that found nothing: found ones become lost, tentative ones go."""
        tracks = self._tracks
        newly_lost = missed[tracks.state[missed] == TRACKED]
        tracks.state[newly_lost] = LOST
        tracks.lost_since[newly_lost] = pts
        tracks.hits[newly_lost] = 0
        tracks.mean[newly_lost, 6:] = 0.0  # a hidden box keeps its size
        gone = missed[tracks.state[missed] == TENTATIVE]
        if len(gone):
            keep = np.ones(len(tracks), bool)
            keep[gone] = False
            self._tracks = tracks.take(keep)

    def _confirm(self, index: IntArray) -> None:
        tracks = self._tracks
        tracks.state[index] = TRACKED
        tracks.ids[index] = np.arange(self._next_id, self._next_id + len(index))
        self._next_id += len(index)

    def _birth(self, boxes: Array, class_id: IntArray) -> IntArray:
        """Start tentative tracks at ``boxes`` (centre/size); returns their ids, which
        are -1 unless ``min_hits`` is 1 (confirmed at once)."""
        if not len(boxes):
            return np.zeros(0, np.int64)
        start = len(self._tracks)
        self._tracks = self._tracks.concat(TrackTable.born(boxes, class_id, self.noise))
        if self.options.min_hits <= 1:
            self._confirm(np.arange(start, len(self._tracks)))
        return self._tracks.ids[start:]
