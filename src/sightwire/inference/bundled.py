"""Models that ship with Sightwire (trained by the project; see training/README.md)."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
PARCELS_MODEL = DATA / "parcels" / "parcels.onnx"
"""Parcels and shipping labels seen from above a conveyor (YOLOv8 output layout)."""
