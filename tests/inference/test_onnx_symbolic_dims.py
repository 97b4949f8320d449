"""Output axes an exporter left symbolic are read from a real run at load."""

from __future__ import annotations

from pathlib import Path

from sightwire.inference.detector import OnnxDetector

from .onnx_fixtures import tiny_detector


def test_symbolic_channel_axis_is_measured(tmp_path: Path) -> None:
    path = tiny_detector(tmp_path / "m.onnx", tag="1", channels="Transpose_dim_1")
    detector = OnnxDetector(path)
    assert detector.runner.output_shapes == (("batch", 6, 1),)
    assert detector.spec.name == "yolov8"
    assert detector.class_names == ["parcel", "label"]
