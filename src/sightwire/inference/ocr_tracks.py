"""OCR per tracked object, as a fallback for (and a cross-check of) another reading:
a shipping label's printed tracking number when its barcode cannot be read.

The ``ocr`` step with ``prefer: barcode`` keeps, per track, the last barcode read and
the OCR text. An object still without a barcode after ``wait_frames`` frames wholly
in view is read by OCR there and then (the frame waits: the rules at the exit line
need the number), at most ``attempts`` times until the pattern matches. With
``cross_check``, objects that have a barcode are read too, one at a time in a
background thread (the camera never waits; the check arrives when it arrives).

Columns: ``into`` (default ``reading``) is the barcode, or else the OCR text;
``text`` the OCR text (""); ``read_by`` ``barcode``, ``ocr`` or ""; ``text_agrees``
True/False once both were read, else None.

>>> from sightwire.config.models import OcrOptions
>>> options = OcrOptions(within="parcel", pattern="1Z[0-9A-Z]{16}", prefer="barcode",
...                      into="tracking_number")
>>> # step = TrackOcrAnalyser(options)
>>> # detections = step.analyse(frame, detections)   # after the track and barcode steps
>>> # detections.data["tracking_number"], detections.data["text_agrees"]
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sightwire.config.models import OcrOptions
from sightwire.core.detections import Detections
from sightwire.core.frame import Frame, Image
from sightwire.inference.ocr import OcrAnalyser
from sightwire.inference.readings import Point, crop_box, targets, with_columns
from sightwire.tracking.memory import TrackMemory

EDGE_PX = 2.0
"""A box this close to the frame's edge may cut the label: not read."""


@dataclass(slots=True)
class _Track:
    """What is known of one tracked object's readings."""

    last_seen: float
    preferred: str = ""
    text: str = ""
    attempts: int = 0
    in_view: int = 0
    pending: bool = False


class TrackOcrAnalyser:
    """OCR per track beside a preferred reading; see the module doc. ``background``
    False runs cross-checks on the camera's thread (for tests: deterministic)."""

    def __init__(
        self,
        options: OcrOptions,
        *,
        zones: Mapping[str, Sequence[Point]] | None = None,
        threads: int = 1,
        forget_s: float = 10.0,
        background: bool = True,
    ) -> None:
        if options.prefer is None or options.within is None:
            raise ValueError("OCR as a fallback needs both within and prefer")
        self.options = options
        self.reader = OcrAnalyser(options, zones=zones, threads=threads)
        self.forget_s = forget_s
        self._tracks: TrackMemory[_Track] = TrackMemory(forget_s)
        self._engine = threading.Lock()  # one OCR at a time: the engine is shared
        self._pool: ThreadPoolExecutor | None = None
        if options.cross_check and background:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="ocr-check")
            weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        self.fallback_reads = 0
        self.check_reads = 0

    def use_zones(self, zones: Mapping[str, Sequence[Point]]) -> None:
        """Read inside the camera's zones as edited."""
        self.reader.use_zones(zones)

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """``detections`` with the columns of the module doc added."""
        n = len(detections)
        into = np.full(n, "", dtype=object)
        text = np.full(n, "", dtype=object)
        read_by = np.full(n, "", dtype=object)
        agrees = np.full(n, None, dtype=object)
        tracks = detections.tracker_id
        chosen = targets(detections, self.options.within, self.reader.polygon)
        if tracks is not None:
            preferred = _texts(detections, self.options.prefer or "")
            clear = _in_view(detections.xyxy[chosen], frame.width, frame.height)
            for k, index in enumerate(chosen.tolist()):
                if tracks[index] < 0:
                    continue
                track = self._update((frame.camera, int(tracks[index])), frame, preferred[index])
                if clear[k]:
                    track.in_view += 1
                    self._read_if_needed(track, frame.image, detections.xyxy[index])
                into[index] = track.preferred or track.text
                text[index] = track.text
                read_by[index] = "barcode" if track.preferred else ("ocr" if track.text else "")
                if track.preferred and track.text:
                    agrees[index] = track.preferred == track.text
        self._tracks.forget(frame.camera, frame.pts)
        columns = {
            self.options.into: into.astype(str),
            "text": text.astype(str),
            "read_by": read_by.astype(str),
            "text_agrees": agrees,
        }
        return with_columns(detections, **columns)

    def _update(self, key: tuple[str, int], frame: Frame, preferred: str) -> _Track:
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track(frame.pts)
        track.last_seen = frame.pts
        if preferred:
            track.preferred = preferred
        return track

    def _read_if_needed(self, track: _Track, image: Image, box: npt.NDArray[np.float32]) -> None:
        if track.text or track.pending or track.attempts >= self.options.attempts:
            return
        crop, _, _ = crop_box(image, box, self.options.margin)
        if not track.preferred:
            if track.in_view >= self.options.wait_frames:  # the fallback: read now
                self.fallback_reads += 1
                self._read(track, crop)
        elif self.options.cross_check:
            self.check_reads += 1
            if self._pool is None:
                self._read(track, crop)
            else:
                track.pending = True
                job: Future[None] = self._pool.submit(self._read, track, crop.copy())
                job.add_done_callback(lambda _job: setattr(track, "pending", False))

    def _read(self, track: _Track, crop: Image) -> None:
        with self._engine:
            reading = self.reader.read(crop)
        track.attempts += 1
        if reading is not None:
            track.text = reading.text


def _texts(detections: Detections, column: str) -> npt.NDArray[np.str_]:
    values = detections.data.get(column)
    if values is None:
        return np.full(len(detections), "", dtype="<U1")
    return np.asarray(values, dtype=str)


def _in_view(xyxy: npt.NDArray[np.float32], width: int, height: int) -> npt.NDArray[np.bool_]:
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
    inside: npt.NDArray[np.bool_] = (
        (boxes[:, 0] > EDGE_PX)
        & (boxes[:, 1] > EDGE_PX)
        & (boxes[:, 2] < width - EDGE_PX)
        & (boxes[:, 3] < height - EDGE_PX)
    )
    return inside
