"""Barcode reading with zxing-cpp, inside detected objects or inside a zone.

With ``within`` set, each object of that class is cut out (grown by ``margin``) and
read; what was read goes to its ``data["barcode"]`` ("" if nothing) and
``data["barcode_format"]`` (zxing's name, e.g. ``Code128``). With only ``zone`` set
(or neither: the whole frame), the zone's bounding rectangle is read, pixels outside
the polygon blanked, and every barcode found becomes a new object of class
``barcode`` at its position. A ``pattern`` keeps only readings that contain a match
(``re.search``) and keeps that matching part. A small crop that yields nothing is
read once more at twice its size.

>>> import numpy as np
>>> from sightwire.config.models import ReadOptions
>>> from sightwire.synth.labels import render_label
>>> label = np.pad(render_label("1Z4WSJLB0018695697"), ((20, 20), (20, 20), (0, 0)),
...                constant_values=255)
>>> reader = BarcodeAnalyser(ReadOptions(pattern="1Z[0-9A-Z]{16}"))
>>> found = reader.read(label)
>>> [(r.text, r.format) for r in found]
[('1Z4WSJLB0018695697', 'Code128')]
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from sightwire.config.models import ReadOptions
from sightwire.core.detections import Detections, FloatArray
from sightwire.core.frame import Frame, Image
from sightwire.inference.readings import (
    OTHER_CLASS_ID,
    PatternMatcher,
    Point,
    ReadStats,
    append_objects,
    crop_box,
    crop_zone,
    quad_boxes,
    resolve_zone,
    targets,
    with_columns,
)

BARCODE = "barcode"
UPSCALE_BELOW = 640
"""Crops whose longer side is shorter than this (pixels) get a 2x retry."""


@dataclass(frozen=True, slots=True)
class BarcodeReading:
    """One barcode: its (pattern-matched) text, zxing format name and corners (4, 2)
    in the pixels of the image read."""

    text: str
    format: str
    quad: FloatArray


def barcode_formats(names: Sequence[str] | None) -> zxingcpp.BarcodeFormats | None:
    """zxing formats from names such as ``Code128``, ``QRCode``, ``EAN13``; None: all."""
    if not names:
        return None
    try:
        return zxingcpp.barcode_formats_from_str(",".join(names))
    except (ValueError, RuntimeError) as error:
        raise ValueError(f"unknown barcode format in {list(names)}: {error}") from error


class BarcodeAnalyser:
    """Reads barcodes per ``ReadOptions`` (see the module doc); an ``Analyser``.

    ``zones`` are the camera's zones (``CameraConfig.zones``), needed when
    ``options.zone`` names one. ``formats`` narrows the symbologies looked for
    (faster, fewer false reads), e.g. ``["Code128", "QRCode"]``.

    >>> from sightwire.config.models import ReadOptions
    >>> reader = BarcodeAnalyser(ReadOptions(within="parcel", pattern="1Z[0-9A-Z]{16}"),
    ...                          formats=["Code128"])
    >>> # detections = reader.analyse(frame, detections)
    >>> # detections.data["barcode"], detections.data["barcode_format"]
    """

    def __init__(
        self,
        options: ReadOptions,
        *,
        formats: Sequence[str] | None = None,
        zones: Mapping[str, Sequence[Point]] | None = None,
        upscale_below: int = UPSCALE_BELOW,
    ) -> None:
        self.options = options
        chosen = barcode_formats(formats)
        self.formats: dict[str, Any] = {} if chosen is None else {"formats": chosen}
        self.use_zones(zones or {})
        self.matcher = PatternMatcher(options.pattern)
        self.upscale_below = upscale_below
        self.stats = ReadStats()

    def use_zones(self, zones: Mapping[str, Sequence[Point]]) -> None:
        """Read inside the camera's zones as edited (the step's ``zone`` keeps its name)."""
        self.polygon = resolve_zone(self.options.zone, zones)

    def read(self, image: Image) -> list[BarcodeReading]:
        """Barcodes in ``image`` (BGR or grey) that pass the pattern; corners in its pixels.

        Retries once at 2x when nothing passes and the image is small."""
        started = time.perf_counter()
        if image.size == 0:
            return []
        grey = np.asarray(
            cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image, np.uint8
        )
        found = self._read(grey, 1.0)
        if not found and max(grey.shape[:2]) < self.upscale_below:
            bigger = np.asarray(
                cv2.resize(grey, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR), np.uint8
            )
            found = self._read(bigger, 2.0)
        self.stats.add(started)
        return found

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """Readings attached to the objects of class ``within``, or added as ``barcode``
        objects when only a zone (or nothing) says where to read."""
        if self.options.within is None:
            region, left, top = crop_zone(frame.image, self.polygon)
            return append_objects(detections, self._as_objects(self.read(region), left, top))
        texts = _column(detections, "barcode")
        formats = _column(detections, "barcode_format")
        for index in targets(detections, self.options.within, self.polygon):
            crop, _, _ = crop_box(frame.image, detections.xyxy[index], self.options.margin)
            found = self.read(crop)
            if found:
                texts[index], formats[index] = found[0].text, found[0].format
        return with_columns(
            detections, barcode=texts.astype(str), barcode_format=formats.astype(str)
        )

    def _read(self, grey: Image, scale: float) -> list[BarcodeReading]:
        readings = []
        for result in zxingcpp.read_barcodes(grey, **self.formats):
            text = self.matcher.find(result.text)
            if text is None or not text:
                continue
            p = result.position
            quad = (
                np.array(
                    [[c.x, c.y] for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
                    np.float32,
                )
                / scale
            )
            readings.append(BarcodeReading(text, result.format.name, quad))
        return readings

    @staticmethod
    def _as_objects(readings: list[BarcodeReading], left: int, top: int) -> Detections:
        """Readings as new ``barcode`` objects, boxes in frame pixels."""
        quads = np.array([r.quad for r in readings], np.float32).reshape(-1, 4, 2)
        texts = [r.text for r in readings]
        return Detections(
            xyxy=quad_boxes(quads) + np.array([left, top, left, top], np.float32),
            confidence=np.ones(len(readings), np.float32),
            class_id=np.full(len(readings), OTHER_CLASS_ID, np.int64),
            data={
                "class_name": np.array([BARCODE] * len(readings), dtype=str).reshape(-1),
                "barcode": np.array(texts, dtype=str).reshape(-1),
                "barcode_format": np.array([r.format for r in readings], dtype=str).reshape(-1),
            },
        )


def _column(detections: Detections, name: str) -> npt.NDArray[np.object_]:
    """A writable copy of text column ``name`` ("" where absent)."""
    column = np.full(len(detections), "", dtype=object)
    if name in detections.data:
        column[:] = detections.data[name].astype(str)
    return column
