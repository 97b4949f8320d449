"""Shared helpers of the readers (barcodes, OCR) and finders (faces): where to read,
how to cut it out, how to attach what was read, and how to match a ``pattern``.

>>> import numpy as np
>>> parcels = Detections(xyxy=np.array([[10, 10, 50, 40]], np.float32),
...                      confidence=np.array([0.9], np.float32), class_id=np.array([0]),
...                      data={"class_name": np.array(["parcel"])})
>>> targets(parcels, within="parcel", polygon=None).tolist()
[0]
>>> PatternMatcher(r"1Z[0-9A-Z]{16}", fix_confusions=True).find("IZ4WSJLB0018695697")
'1Z4WSJLB0018695697'
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections, FloatArray, IntArray
from sightwire.core.frame import Image

Point = tuple[float, float]
OTHER_CLASS_ID = -1
"""``class_id`` of objects a reader or finder adds (they are no class of a model)."""


@dataclass(slots=True)
class ReadStats:
    """How many images a reader has read and how long it took (wall time)."""

    reads: int = 0
    total_ms: float = 0.0

    def add(self, started: float) -> None:
        """Count one read that began at ``time.perf_counter()`` value ``started``."""
        self.reads += 1
        self.total_ms += (time.perf_counter() - started) * 1000

    @property
    def mean_ms(self) -> float:
        """Mean milliseconds per read (0 before the first)."""
        return self.total_ms / self.reads if self.reads else 0.0


def class_names(detections: Detections) -> npt.NDArray[np.str_]:
    """The ``class_name`` column, or empty names when the detector gave none."""
    names = detections.data.get("class_name")
    if names is None:
        return np.full(len(detections), "", dtype="<U1")
    return np.asarray(names, dtype=str)


def resolve_zone(zone: str | None, zones: Mapping[str, Sequence[Point]]) -> FloatArray | None:
    """The polygon (N, 2) of zone ``zone``, or None when no zone is asked for."""
    if zone is None:
        return None
    if zone not in zones:
        raise ValueError(f"unknown zone {zone!r}; the camera has: {sorted(zones) or 'none'}")
    polygon: FloatArray = np.asarray(zones[zone], np.float32).reshape(-1, 2)
    return polygon


def targets(detections: Detections, within: str | None, polygon: FloatArray | None) -> IntArray:
    """Indices of the objects of class ``within`` (whose centre lies in ``polygon``, if given)."""
    if within is None:
        return np.zeros(0, np.int64)
    chosen = class_names(detections) == within
    if polygon is not None and chosen.any():
        contour = polygon.reshape(-1, 1, 2)
        centres = detections.anchors("center")
        inside = [
            cv2.pointPolygonTest(contour, (float(x), float(y)), False) >= 0 for x, y in centres
        ]
        chosen &= np.asarray(inside, bool)
    indices: IntArray = np.flatnonzero(chosen).astype(np.int64)
    return indices


def crop_box(image: Image, box: FloatArray, margin: float) -> tuple[Image, int, int]:
    """``image`` cut to ``box`` grown by ``margin`` of its size on each side (clipped);
    returns the crop (a view) and its top-left corner in the image."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = (float(v) for v in box)
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    left, top = max(0, int(x1 - dx)), max(0, int(y1 - dy))
    right, bottom = min(width, int(np.ceil(x2 + dx))), min(height, int(np.ceil(y2 + dy)))
    return image[top:bottom, left:right], left, top


def crop_zone(image: Image, polygon: FloatArray | None, fill: int = 255) -> tuple[Image, int, int]:
    """The bounding rectangle of ``polygon`` with pixels outside it set to ``fill``
    (a copy); the whole image when ``polygon`` is None. Returns it and its corner."""
    if polygon is None:
        return image, 0, 0
    height, width = image.shape[:2]
    x, y, w, h = cv2.boundingRect(np.round(polygon).astype(np.int32))
    x2, y2 = min(width, x + w), min(height, y + h)
    x, y = max(0, x), max(0, y)
    region = image[y:y2, x:x2].copy()
    mask = np.zeros(region.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon - [x, y]).astype(np.int32)], 255)
    region[mask == 0] = fill
    return region, x, y


def _filler(column: npt.NDArray[Any], n: int) -> npt.NDArray[Any]:
    """``n`` neutral values of ``column``'s kind: "", NaN, -1 or False."""
    kind = column.dtype.kind
    if kind in "US":
        return np.full(n, "", dtype=column.dtype)
    if kind == "f":
        return np.full(n, np.nan, dtype=column.dtype)
    if kind in "iu":
        return np.full(n, -1, dtype=column.dtype)
    if kind == "b":
        return np.zeros(n, bool)
    return np.full(n, None, dtype=object)


def _padded(d: Detections, names: set[str], like: Detections) -> Detections:
    """``d`` with every column of ``like`` it lacks, filled with neutral values."""
    data = dict(d.data)
    for name in names - set(data):
        data[name] = _filler(like.data[name], len(d))
    tracker = d.tracker_id
    if tracker is None and like.tracker_id is not None:
        tracker = np.full(len(d), -1, np.int64)
    mask = d.mask
    if mask is None and like.mask is not None:
        mask = np.zeros((len(d), *like.mask.shape[1:]), bool)
    return Detections(d.xyxy, d.confidence, d.class_id, tracker, mask, data)


def append_objects(detections: Detections, new: Detections) -> Detections:
    """``detections`` followed by ``new``, keeping every column of both: columns one
    side lacks are filled with "", NaN, -1 or False (tracker ids with -1)."""
    if len(new) == 0 and not set(new.data) - set(detections.data):
        return detections
    names = set(detections.data) | set(new.data)
    left = _padded(detections, names, new) if len(detections) or detections.data else None
    right = _padded(new, names, detections)
    if left is None:
        return right
    merged = Detections.merge([left, right])
    if len(merged) == 0:  # merge drops empty parts: keep the columns anyway
        return right if len(right.data) >= len(left.data) else left
    return merged


def with_columns(detections: Detections, **columns: npt.NDArray[Any]) -> Detections:
    """A copy of ``detections`` with data columns added or replaced."""
    return Detections(
        detections.xyxy,
        detections.confidence,
        detections.class_id,
        detections.tracker_id,
        detections.mask,
        {**detections.data, **columns},
    )


def quad_boxes(quads: FloatArray) -> FloatArray:
    """Axis-aligned boxes ``xyxy`` (N, 4) around quadrilaterals (N, 4, 2)."""
    quads = np.asarray(quads, np.float32).reshape(-1, 4, 2)
    boxes: FloatArray = np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1)
    return boxes


# Letters OCR confuses with digits, as the digit they stand for.
DIGIT_LOOKALIKES = {
    "0": "OoQD",
    "1": "Il|i!",
    "2": "Zz",
    "5": "Ss",
    "6": "Gb",
    "8": "B",
    "9": "gq",
    "7": "T",
}
TO_DIGIT = str.maketrans({c: d for d, cs in DIGIT_LOOKALIKES.items() for c in cs})
_QUANTIFIER = re.compile(r"(\{\d+(,\d*)?\}|[*+?])\??")
_DIGIT_TOKEN = re.compile(r"\\d|\[0-9\]|\d")


@dataclass(frozen=True, slots=True)
class _Rewrite:
    pattern: str
    groups: tuple[str, ...]


def _widened(token: str, quantifier: str, name: str) -> str:
    """A named group accepting the digit(s) ``token`` stands for and their lookalikes."""
    if token in (r"\d", "[0-9]"):
        digits, extra = "0-9", "".join(DIGIT_LOOKALIKES.values())
    else:
        digits, extra = token, DIGIT_LOOKALIKES.get(token, "")
    return f"(?P<{name}>[{digits}{re.escape(extra)}]{quantifier})"


def _verbatim(pattern: str, i: int) -> int:
    """End of a piece at ``i`` whose digits are not digits to read: an escape, a
    quantifier, a group name or a named back-reference; ``i`` if none starts there."""
    if pattern[i] == "\\":
        return i + 2
    quantifier = _QUANTIFIER.match(pattern, i) if pattern[i] == "{" else None
    if quantifier:
        return quantifier.end()
    if pattern.startswith("(?P<", i):
        return pattern.index(">", i) + 1
    if pattern.startswith("(?P=", i):
        return pattern.index(")", i) + 1
    return i


def _lenient(pattern: str) -> _Rewrite:
    """``pattern`` with every place that demands a digit (``\\d``, ``[0-9]`` or a
    literal digit, outside character classes) widened to accept the letters OCR
    mistakes for digits, each in a named group so it can be fixed."""
    out: list[str] = []
    groups: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        token = None if in_class else _DIGIT_TOKEN.match(pattern, i)
        if token:
            quantifier = _QUANTIFIER.match(pattern, token.end())
            groups.append(f"_digits{len(groups)}")
            out.append(
                _widened(token.group(), quantifier.group() if quantifier else "", groups[-1])
            )
            i = quantifier.end() if quantifier else token.end()
            continue
        end = _verbatim(pattern, i)
        if end > i:
            out.append(pattern[i:end])
            i = end
            continue
        char = pattern[i]
        in_class = (in_class and char != "]") or (char == "[" and not in_class)
        out.append(char)
        i += 1
    return _Rewrite("".join(out), tuple(groups))


class PatternMatcher:
    """Finds the part of a reading that matches ``pattern`` (``re.search``: anchor with
    ``^...$`` to demand the whole reading).

    With ``fix_confusions`` (for OCR), where the pattern demands a digit (``\\d``,
    ``[0-9]`` or a literal digit) letters OCR mistakes for digits are read as those
    digits: O/o/Q/D→0, I/l/i/|→1, Z→2, S→5, G/b→6, T→7, B→8, g/q→9. Nothing else is
    changed: in ``[0-9A-Z]`` an O stays an O, since the pattern allows both.

    >>> PatternMatcher(r"\\d{4}", fix_confusions=True).find("code 2O1S")
    '2015'
    >>> PatternMatcher(r"\\d{4}").find("code 2O1S") is None
    True
    """

    def __init__(self, pattern: str | None, *, fix_confusions: bool = False) -> None:
        self.pattern = re.compile(pattern) if pattern is not None else None
        self.lenient: re.Pattern[str] | None = None
        self.groups: tuple[str, ...] = ()
        if pattern is not None and fix_confusions:
            rewrite = _lenient(pattern)
            if rewrite.groups:
                self.lenient, self.groups = re.compile(rewrite.pattern), rewrite.groups

    def find(self, text: str) -> str | None:
        """The matching part of ``text`` (corrected), ``text`` itself when there is no
        pattern, or None when nothing matches."""
        if self.pattern is None:
            return text
        exact = self.pattern.search(text)
        if exact:
            return exact.group()
        if self.lenient is None:
            return None
        loose = self.lenient.search(text)
        if loose is None:
            return None
        fixed = list(text)
        for name in self.groups:
            start, end = loose.span(name)
            if start >= 0:
                fixed[start:end] = list(text[start:end].translate(TO_DIGIT))
        again = self.pattern.search("".join(fixed))
        return again.group() if again else None
