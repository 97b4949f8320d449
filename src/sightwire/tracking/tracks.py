"""The tracker's state: every track of one camera as columns of numpy arrays.

A track is *tentative* until it has been matched ``min_hits`` frames in a row, then
*tracked* while it is found, and *lost* while it is not (until it is found again or
ages out). Only confirmed tracks (tracked or lost) have an id.

>>> import numpy as np
>>> from sightwire.tracking.kalman import MotionNoise
>>> table = TrackTable.born(np.array([[50.0, 50, 10, 10]]), np.array([3]), MotionNoise())
>>> len(table), table.state.tolist(), table.ids.tolist()
(1, [0], [-1])
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from sightwire.tracking.kalman import MotionNoise, initiate

TENTATIVE = 0
TRACKED = 1
LOST = 2

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]


@dataclass(slots=True)
class TrackTable:
    """N tracks: ``ids`` (-1 while tentative), ``class_id``, ``state``, ``hits``
    (frames matched in a row), ``lost_since`` (pts of the first frame that missed
    the track; NaN unless lost), ``last_box`` (last measured centre/size, N × 4) and
    the Kalman ``mean`` (N × 8) and ``cov`` (N × 8 × 8)."""

    ids: IntArray
    class_id: IntArray
    state: IntArray
    hits: IntArray
    lost_since: Array
    last_box: Array
    mean: Array
    cov: Array

    @classmethod
    def empty(cls) -> TrackTable:
        """No tracks."""
        return cls.born(np.zeros((0, 4)), np.zeros(0, np.int64), MotionNoise())

    @classmethod
    def born(cls, boxes: Array, class_id: IntArray, noise: MotionNoise) -> TrackTable:
        """Tentative tracks at measured ``boxes`` (N, 4, centre/size)."""
        n = len(boxes)
        mean, cov = initiate(boxes, noise)
        return cls(
            ids=np.full(n, -1, np.int64),
            class_id=np.asarray(class_id, np.int64).reshape(n),
            state=np.full(n, TENTATIVE, np.int64),
            hits=np.ones(n, np.int64),
            lost_since=np.full(n, np.nan),
            last_box=np.asarray(boxes, np.float64).reshape(n, 4).copy(),
            mean=mean,
            cov=cov,
        )

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: npt.NDArray[Any]) -> TrackTable:
        """The tracks selected by a boolean mask or integer indices."""
        return TrackTable(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def concat(self, other: TrackTable) -> TrackTable:
        """These tracks followed by ``other``'s."""
        return TrackTable(
            **{
                f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                for f in fields(self)
            }
        )
