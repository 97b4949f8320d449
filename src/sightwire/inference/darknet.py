"""A second detection backend: Darknet YOLO models (cfg + weights + names) through
OpenCV's DNN module, with the same ``detect()`` as :class:`OnnxDetector`.

OpenCV 4.x reads Darknet files (5.x dropped the reader; the project pins ``<5``).
Images are letterboxed like the ONNX path; the YOLO layers' rows are centre-x,
centre-y, width, height as shares of the input, objectness, and class scores that
OpenCV has already multiplied by the objectness.

>>> detector = DarknetDetector("yolov3-tiny.cfg", "yolov3-tiny.weights", "coco.names",
...                            confidence=0.3)  # doctest: +SKIP
>>> detector.detect([image])[0].data["class_name"]  # doctest: +SKIP
array(['person', 'tie'], dtype='<U6')
"""

from __future__ import annotations

import configparser
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections
from sightwire.core.frame import Image
from sightwire.inference.decoders.base import DecodeParams, best_class, center_to_corners, select
from sightwire.inference.detector import CLASS_NAME, names_of
from sightwire.inference.letterbox import Letterbox, Size, make_blob

FIRST_SCORE = 5  # row: cx, cy, w, h, objectness, class scores...


class DarknetDetector:
    """A Darknet YOLO model (v3, v4, tiny variants) run by OpenCV DNN on the CPU."""

    def __init__(
        self,
        cfg: str | Path,
        weights: str | Path,
        names: str | Path | Sequence[str],
        *,
        confidence: float = 0.25,
        iou: float = 0.45,
        input_size: Size | None = None,
        max_detections: int = 300,
    ) -> None:
        """Load the network; ``names`` is a names file (one class per line) or a list;
        ``input_size`` (height, width, multiples of 32) defaults to the cfg's."""
        for path in (cfg, weights):
            if not Path(path).is_file():
                raise FileNotFoundError(f"Darknet file {path} does not exist")
        self.net = cv2.dnn.readNetFromDarknet(str(cfg), str(weights))
        self.output_layers: list[str] = list(self.net.getUnconnectedOutLayersNames())
        self.names = _read_names(names)
        self.size: Size = input_size or cfg_input_size(Path(cfg))
        self.params = DecodeParams(confidence=confidence, iou=iou, max_detections=max_detections)

    @property
    def input_size(self) -> Size:
        """(height, width) the network runs at."""
        return self.size

    @property
    def class_names(self) -> list[str]:
        """Class names by id, from the names file."""
        return self.names

    def detect(self, images: Sequence[Image]) -> list[Detections]:
        """Objects of each BGR image, in that image's pixels (one forward pass)."""
        if not images:
            return []
        blob, placements = make_blob(images, self.size)
        self.net.setInput(blob)
        outputs = [np.asarray(o) for o in self.net.forward(self.output_layers)]
        if len(images) == 1:  # OpenCV drops the batch axis of a single image
            outputs = [o[None] for o in outputs]
        return [
            self._decode(np.concatenate([o[i] for o in outputs]), placement)
            for i, placement in enumerate(placements)
        ]

    def _decode(self, rows: npt.NDArray[Any], placement: Letterbox) -> Detections:
        scores, class_ids = best_class(rows[:, FIRST_SCORE:])
        keep = np.flatnonzero(scores >= self.params.confidence)
        ih, iw = self.size
        xyxy = center_to_corners(rows[keep, :4] * np.array([iw, ih, iw, ih], np.float32))
        detections, _ = select(xyxy, scores[keep], class_ids[keep], placement, self.params)
        detections.data[CLASS_NAME] = names_of(detections.class_id, self.names)
        return detections


def cfg_input_size(cfg: Path) -> Size:
    """(height, width) in the ``[net]`` section of a Darknet cfg (416 x 416 if absent)."""
    parser = configparser.ConfigParser(strict=False, inline_comment_prefixes=("#", ";"))
    text = cfg.read_text(encoding="utf-8", errors="replace")
    net = text.split("\n[", 1)[0] if text.lstrip().startswith("[net]") else ""
    parser.read_string(net)
    section = parser["net"] if parser.has_section("net") else {}
    return (int(section.get("height", 416)), int(section.get("width", 416)))


def _read_names(names: str | Path | Sequence[str]) -> list[str]:
    if isinstance(names, str | Path):
        lines = Path(names).read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip()]
    return [str(n) for n in names]
