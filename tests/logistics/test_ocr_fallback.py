"""The tracking number by OCR when the barcode cannot be read, and OCR as a cross-check
of the barcode (``ocr: {prefer: barcode}``), on labels drawn like the conveyor's."""

from __future__ import annotations

import numpy as np
import pytest

from sightwire.config.models import OcrOptions, ReadOptions
from sightwire.core import Detections, Frame
from sightwire.inference.barcode import BarcodeAnalyser
from sightwire.inference.ocr_tracks import TrackOcrAnalyser
from sightwire.synth.labels import render_label

NUMBER = "1ZH0LSZU4392714622"
PATTERN = "1Z[0-9A-Z]{16}"


def _options(**more: object) -> OcrOptions:
    return OcrOptions.model_validate(
        {"within": "parcel", "pattern": PATTERN, "prefer": "barcode", "into": "tracking_number"}
        | more
    )


def _frame(label: np.ndarray, seq: int, left: int = 100) -> tuple[Frame, Detections]:
    """A parcel with ``label`` on a dark belt, and its tracked detection (track 5)."""
    image = np.full((360, 640, 3), 60, np.uint8)
    image[80:300, left : left + 360] = (92, 142, 184)
    h, w = label.shape[:2]
    image[110 : 110 + h, left + 30 : left + 30 + w] = label
    parcel = Detections(
        np.array([[left, 80, left + 360, 300]], np.float32),
        np.array([0.9], np.float32),
        np.array([0]),
        tracker_id=np.array([5]),
        data={"class_name": np.array(["parcel"])},
    )
    return Frame("belt-1", seq, 0.0, seq / 5, image), parcel


def _run(step: TrackOcrAnalyser, label: np.ndarray, frames: int, left: int = 100) -> Detections:
    barcode = BarcodeAnalyser(ReadOptions(within="parcel", pattern=PATTERN))
    out = Detections.empty()
    for seq in range(frames):
        frame, parcel = _frame(label, seq, left)
        out = step.analyse(frame, barcode.analyse(frame, parcel))
    return out


def _columns(out: Detections) -> tuple[str, str, object]:
    return (
        str(out.data["tracking_number"][0]),
        str(out.data["read_by"][0]),
        out.data["text_agrees"][0],
    )


def test_a_smudged_barcode_falls_back_to_the_printed_number() -> None:
    step = TrackOcrAnalyser(_options())
    label = render_label(NUMBER, barcode_damaged=True, seed=3)
    assert _columns(_run(step, label, 1)) == ("", "", None)  # one frame: still waiting
    assert _columns(_run(step, label, 5)) == (NUMBER, "ocr", None)
    assert step.fallback_reads == 1  # read once, then kept for the track


def test_a_readable_barcode_needs_no_ocr_and_is_cross_checked() -> None:
    label = render_label(NUMBER)
    plain = TrackOcrAnalyser(_options())
    assert _columns(_run(plain, label, 4)) == (NUMBER, "barcode", None)
    assert plain.fallback_reads == plain.check_reads == 0
    checked = TrackOcrAnalyser(_options(cross_check=True), background=False)
    assert _columns(_run(checked, label, 4)) == (NUMBER, "barcode", True)
    assert checked.check_reads == 1


def test_a_barcode_and_a_printed_number_that_differ_are_flagged() -> None:
    # The barcode encodes another number than the one printed under it.
    label = render_label(NUMBER)
    other = render_label("1ZH0LSZU4392714699")
    label[: other.shape[0] // 2] = other[: other.shape[0] // 2]  # bars of the other
    step = TrackOcrAnalyser(_options(cross_check=True), background=False)
    out = _run(step, label, 3)
    assert _columns(out) == ("1ZH0LSZU4392714699", "barcode", False)
    assert out.data["text"][0] == NUMBER


def test_an_unreadable_label_is_tried_a_few_times_only() -> None:
    step = TrackOcrAnalyser(_options(attempts=2))
    assert _columns(_run(step, render_label(NUMBER, damaged=True, seed=4), 8)) == ("", "", None)
    assert step.fallback_reads == 2


def test_a_parcel_cut_by_the_frame_edge_is_not_read() -> None:
    step = TrackOcrAnalyser(_options())
    label = render_label(NUMBER, barcode_damaged=True, seed=3)
    assert _columns(_run(step, label, 4, left=300)) == ("", "", None)  # 300 + 360 > 640
    assert step.fallback_reads == 0


def test_the_fallback_needs_a_class_to_read() -> None:
    with pytest.raises(ValueError, match="prefer needs within"):
        OcrOptions(pattern=PATTERN, prefer="barcode")
