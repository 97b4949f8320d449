"""Text reading (OCR) with RapidOCR (PP-OCR models on ONNX Runtime), inside detected
objects or inside a zone.

The engine is tuned for speed and loaded once per setting, then shared: the text
detector only ever shrinks images (``Det.limit_type=max``) to at most
``limit_side_len`` pixels (960 for zones and whole frames, 640 for object crops),
and the 0/180-degree line classifier is off unless ``rotated=True``. The library's
defaults enlarge every image to at least 736 pixels and take seconds a read.

With ``within`` set, each object of that class is cut out (grown by ``margin``) and
read: its ``data["text"]`` gets the text ("" if none) and ``data["text_confidence"]``
the recogniser's score (0 if none). Without a ``pattern`` the text is every line,
top to bottom, joined by spaces. With a ``pattern``, the text is the best match
(``re.search``) in a line, in a line without its spaces, or in all lines joined.
Where the pattern demands a digit (``\\d``, ``[0-9]`` or a literal digit) letters
OCR mistakes for digits count as those digits (O→0, I→1, ...; see
:class:`~sightwire.inference.readings.PatternMatcher`); where it allows letters and
digits alike (``[0-9A-Z]``) nothing is changed, since an O may really be an O. With
only ``zone`` set (or neither: the whole frame), each reading becomes a new object
of class ``text`` at its position.

>>> import numpy as np
>>> from sightwire.config.models import ReadOptions
>>> from sightwire.synth.labels import render_label
>>> reader = OcrAnalyser(ReadOptions(pattern="1Z[0-9A-Z]{16}"))
>>> text = reader.read_text(render_label("1Z4WSJLB0018695697"))
>>> text[0] if text else None
'1Z4WSJLB0018695697'
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

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

TEXT = "text"
FRAME_LIMIT = 960
CROP_LIMIT = 640


@lru_cache(maxsize=8)
def ocr_engine(limit_side_len: int = FRAME_LIMIT, rotated: bool = False, threads: int = -1) -> Any:
    """A RapidOCR engine tuned for speed, made once per setting and shared.

    ``threads`` is ONNX Runtime's intra-op thread count (-1: one per core).

    >>> engine = ocr_engine(640)  # doctest: +SKIP
    >>> engine(bgr_image).txts  # doctest: +SKIP
    """
    from rapidocr import RapidOCR  # heavy: import on first use

    return RapidOCR(
        params={
            "Global.log_level": "warning",
            "Global.use_cls": rotated,
            "Det.limit_type": "max",
            "Det.limit_side_len": limit_side_len,
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
        }
    )


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text: what was read, its score and corners (4, 2) in image pixels."""

    text: str
    confidence: float
    quad: FloatArray


@dataclass(frozen=True, slots=True)
class TextReading:
    """The text kept from an image (a pattern match, or every line) and where it is."""

    text: str
    confidence: float
    box: FloatArray


class OcrAnalyser:
    """Reads text per ``ReadOptions`` (see the module doc); an ``Analyser``.

    ``zones`` are the camera's zones (``CameraConfig.zones``), needed when
    ``options.zone`` names one. ``stats`` counts reads and their milliseconds.

    >>> from sightwire.config.models import ReadOptions
    >>> reader = OcrAnalyser(ReadOptions(within="parcel", pattern="1Z[0-9A-Z]{16}"))
    >>> # detections = reader.analyse(frame, detections)
    >>> # detections.data["text"], detections.data["text_confidence"]
    """

    def __init__(
        self,
        options: ReadOptions,
        *,
        zones: Mapping[str, Sequence[Point]] | None = None,
        limit_side_len: int | None = None,
        rotated: bool = False,
        threads: int = -1,
        min_confidence: float = 0.5,
    ) -> None:
        self.options = options
        self.use_zones(zones or {})
        self.matcher = PatternMatcher(options.pattern, fix_confusions=True)
        limit = limit_side_len or (CROP_LIMIT if options.within else FRAME_LIMIT)
        self.engine = ocr_engine(limit, rotated, threads)
        self.min_confidence = min_confidence
        self.stats = ReadStats()

    def use_zones(self, zones: Mapping[str, Sequence[Point]]) -> None:
        """Read inside the camera's zones as edited (the step's ``zone`` keeps its name)."""
        self.polygon = resolve_zone(self.options.zone, zones)

    def lines(self, image: Image) -> list[TextLine]:
        """Every line of text in a BGR ``image``, top to bottom, then left to right."""
        started = time.perf_counter()
        if image.size == 0:
            return []
        result = self.engine(image)
        self.stats.add(started)
        if not result.txts:
            return []
        found = [
            TextLine(str(text), float(score), np.asarray(quad, np.float32).reshape(4, 2))
            for text, score, quad in zip(result.txts, result.scores, result.boxes, strict=True)
            if float(score) >= self.min_confidence and str(text).strip()
        ]
        return sorted(
            found,
            key=lambda line: (
                round(float(line.quad[:, 1].mean()) / 8),
                float(line.quad[:, 0].min()),
            ),
        )

    def read(self, image: Image) -> TextReading | None:
        """The text kept from ``image`` (see the module doc), or None."""
        return self.choose(self.lines(image))

    def read_text(self, image: Image) -> tuple[str, float] | None:
        """Just the kept text of ``image`` and its confidence, or None."""
        reading = self.read(image)
        return None if reading is None else (reading.text, reading.confidence)

    def choose(self, lines: Sequence[TextLine]) -> TextReading | None:
        """The text to keep from ``lines``: with a pattern the best match, tried in each
        line, each line without spaces, then all lines joined; else every line."""
        if not lines:
            return None
        if self.options.pattern is None:
            return _joined(list(lines), " ".join(line.text for line in lines))
        best: TextReading | None = None
        for line in sorted(lines, key=lambda x: -x.confidence):
            for candidate in (line.text, "".join(line.text.split())):
                match = self.matcher.find(candidate)
                if match and (best is None or line.confidence > best.confidence):
                    best = _joined([line], match)
        if best is None:
            match = self.matcher.find("".join("".join(x.text.split()) for x in lines))
            best = _joined(list(lines), match) if match else None
        return best

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """Text attached to the objects of class ``within``, or added as ``text`` objects
        when only a zone (or nothing) says where to read."""
        if self.options.within is None:
            region, left, top = crop_zone(frame.image, self.polygon)
            return append_objects(detections, self._as_objects(self.lines(region), left, top))
        texts = np.full(len(detections), "", dtype=object)
        scores = np.zeros(len(detections), np.float32)
        if TEXT in detections.data:
            texts[:] = detections.data[TEXT].astype(str)
            scores[:] = np.nan_to_num(detections.data.get("text_confidence", scores))
        for index in targets(detections, self.options.within, self.polygon):
            crop, _, _ = crop_box(frame.image, detections.xyxy[index], self.options.margin)
            reading = self.read(crop)
            texts[index] = "" if reading is None else reading.text
            scores[index] = 0.0 if reading is None else reading.confidence
        return with_columns(detections, text=texts.astype(str), text_confidence=scores)

    def _as_objects(self, lines: list[TextLine], left: int, top: int) -> Detections:
        """Readings as new ``text`` objects, boxes in frame pixels: one per line (or per
        match) without a pattern, the matches only with one."""
        if self.options.pattern is None:
            readings = [_joined([line], line.text) for line in lines]
        else:
            kept = [self.choose([line]) for line in lines]
            readings = [r for r in kept if r is not None]
            if not readings and (joined := self.choose(lines)) is not None:
                readings = [joined]
        boxes = np.array([r.box for r in readings], np.float32).reshape(-1, 4)
        return Detections(
            xyxy=boxes + np.array([left, top, left, top], np.float32),
            confidence=np.array([r.confidence for r in readings], np.float32),
            class_id=np.full(len(readings), OTHER_CLASS_ID, np.int64),
            data={
                "class_name": np.array([TEXT] * len(readings), dtype=str).reshape(-1),
                TEXT: np.array([r.text for r in readings], dtype=str).reshape(-1),
                "text_confidence": np.array([r.confidence for r in readings], np.float32),
            },
        )


def _joined(lines: list[TextLine], text: str) -> TextReading:
    """A reading made of ``lines``: their mean score and the box around them all."""
    quads = np.concatenate([line.quad for line in lines]).reshape(-1, 4, 2)
    box = quad_boxes(quads)
    whole = np.array(
        [box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()], np.float32
    )
    return TextReading(text, float(np.mean([line.confidence for line in lines])), whole)
