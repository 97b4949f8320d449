"""Detected objects of one frame as columns of numpy arrays.

One neutral data model for every detector, tracker and analyser: filtering is a
boolean mask, not a loop.

>>> import numpy as np
>>> d = Detections(xyxy=np.array([[0, 0, 10, 10], [5, 5, 50, 40]], np.float32),
...                confidence=np.array([0.9, 0.3], np.float32),
...                class_id=np.array([0, 1]))
>>> confident = d[d.confidence > 0.5]
>>> len(confident), confident.class_id.tolist()
(1, [0])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Index = int | slice | Sequence[int] | npt.NDArray[np.bool_] | npt.NDArray[np.integer[Any]]


@dataclass(slots=True)
class Detections:
    """N objects: boxes ``xyxy`` (N, 4) in frame pixels, ``confidence`` (N,),
    ``class_id`` (N,), optional ``tracker_id`` (N,), optional ``mask`` (N, H, W)
    and per-object ``data`` columns (each of length N), such as OCR readings."""

    xyxy: FloatArray
    confidence: FloatArray
    class_id: IntArray
    tracker_id: IntArray | None = None
    mask: BoolArray | None = None
    data: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(self.xyxy)
        self.confidence = _column(self.confidence, np.float32, n, "confidence")
        self.class_id = _column(self.class_id, np.int64, n, "class_id")
        if self.tracker_id is not None:
            self.tracker_id = _column(self.tracker_id, np.int64, n, "tracker_id")
        if self.mask is not None:
            self.mask = np.asarray(self.mask, dtype=bool)
            if self.mask.ndim != 3 or len(self.mask) != n:
                raise ValueError(f"mask must have shape (N, H, W) with N={n}")
        for name, values in list(self.data.items()):
            column = np.asarray(values) if not isinstance(values, np.ndarray) else values
            if len(column) != n:
                raise ValueError(f"data column {name!r} has {len(column)} rows, expected {n}")
            self.data[name] = column

    @classmethod
    def empty(cls) -> Detections:
        """No objects."""
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int64),
        )

    @classmethod
    def merge(cls, parts: Sequence[Detections]) -> Detections:
        """Concatenate detections, e.g. of several regions of one frame.

        Optional columns survive only if every part has them.
        """
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        trackers = [p.tracker_id for p in parts]
        masks = [p.mask for p in parts]
        shared = set.intersection(*(set(p.data) for p in parts))
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_id=np.concatenate([p.class_id for p in parts]),
            tracker_id=None
            if any(t is None for t in trackers)
            else np.concatenate([t for t in trackers if t is not None]),
            mask=None
            if any(m is None for m in masks)
            else np.concatenate([m for m in masks if m is not None]),
            data={k: np.concatenate([p.data[k] for p in parts]) for k in sorted(shared)},
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index: Index) -> Detections:
        """Select objects by boolean mask, integer indices, a slice or one integer."""
        if isinstance(index, int):
            index = [index]
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            tracker_id=None if self.tracker_id is None else self.tracker_id[index],
            mask=None if self.mask is None else self.mask[index],
            data={k: v[index] for k, v in self.data.items()},
        )

    def __iter__(self) -> Iterator[Detections]:
        for i in range(len(self)):
            yield self[i]

    @property
    def area(self) -> FloatArray:
        """Box areas in square pixels."""
        wh: FloatArray = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        return wh[:, 0] * wh[:, 1]

    def anchors(self, anchor: str = "center") -> FloatArray:
        """One point per box: ``center``, ``bottom_center`` or ``top_left`` (N, 2)."""
        x1, y1, x2, y2 = self.xyxy.T
        if anchor == "center":
            pts = [(x1 + x2) / 2, (y1 + y2) / 2]
        elif anchor == "bottom_center":
            pts = [(x1 + x2) / 2, y2]
        elif anchor == "top_left":
            pts = [x1, y1]
        else:
            raise ValueError(f"unknown anchor {anchor!r}")
        stacked: FloatArray = np.stack(pts, axis=1).astype(np.float32)
        return stacked

    def shifted(self, dx: float, dy: float) -> Detections:
        """The same objects moved by (dx, dy): region coordinates to frame coordinates."""
        offset = np.array([dx, dy, dx, dy], np.float32)
        return Detections(
            xyxy=self.xyxy + offset,
            confidence=self.confidence,
            class_id=self.class_id,
            tracker_id=self.tracker_id,
            mask=self.mask,
            data=dict(self.data),
        )


def _column(values: Any, dtype: type[Any], n: int, name: str) -> npt.NDArray[Any]:
    column = np.asarray(values, dtype=dtype).reshape(-1)
    if len(column) != n:
        raise ValueError(f"{name} has {len(column)} rows, expected {n}")
    return column
