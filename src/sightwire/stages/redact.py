"""Privacy redaction: blur, pixelate or fill faces, number plates and chosen classes.

Run it before a frame is stored, streamed, sent or shown. As a stage
(``redactor(frame)``) it finds faces and plates itself; ``redactor.redact(frame,
detections)`` also covers the objects of ``privacy.classes`` that a detector found
(boxes in the pixels of ``frame.image``). Each box is grown by ``privacy.padding`` of
its size per side, so hair, ears and chin are covered, not just the detector's tight
box. What was covered is listed in ``frame.metadata["redacted"]``.

The methods destroy detail rather than hide it: ``blur`` shrinks the region to about
``DETAIL_PX`` pixels along its longer side, smooths it and scales it back;
``pixelate`` keeps ``BLOCKS`` blocks along its longer side (a number plate becomes a
row of a few blocks, not one-pixel blocks); ``fill`` paints it one colour.

>>> import numpy as np
>>> from sightwire.config.models import PrivacyConfig
>>> from sightwire.core import Detections, Frame
>>> noise = np.random.default_rng(0).integers(0, 255, (90, 160, 3), np.uint8)
>>> frame = Frame("cam", 0, 0.0, 0.0, noise)
>>> people = Detections(xyxy=[[20, 10, 60, 80]], confidence=[0.9], class_id=[0],
...                     data={"class_name": np.array(["person"])})
>>> redactor = Redactor(PrivacyConfig(classes=["person"], method="fill", padding=0))
>>> out = redactor.redact(frame, people)
>>> int(out.image[10:80, 20:60].max()), out.metadata["redacted"][0]["class_name"]
(0, 'person')
"""

from __future__ import annotations

from typing import Any, Literal

import cv2
import numpy as np

from sightwire.config.models import PrivacyConfig
from sightwire.core.detections import Detections, FloatArray
from sightwire.core.frame import Frame, Image
from sightwire.inference.faces import FACE, PLATE, FaceFinder, face_detector
from sightwire.inference.readings import class_names

Method = Literal["blur", "pixelate", "fill"]
REDACTED = "redacted"
"""Metadata key: a list of {"class_name", "box", "method"} of what was covered."""
DETAIL_PX = 8
"""A blurred region keeps about this many pixels of detail along its longer side."""
BLOCKS = 6
"""A pixelated region keeps about this many blocks along its longer side."""


def padded_boxes(xyxy: FloatArray, padding: float, width: int, height: int) -> FloatArray:
    """Boxes grown by ``padding`` of their width/height on every side, clipped to the
    picture and rounded outwards to whole pixels."""
    boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
    grow = np.tile(boxes[:, 2:] - boxes[:, :2], 2) * padding * np.array([-1, -1, 1, 1])
    grown = boxes + grow
    grown[:, :2] = np.floor(grown[:, :2])
    grown[:, 2:] = np.ceil(grown[:, 2:])
    out: FloatArray = np.clip(grown, 0, [width, height, width, height]).astype(np.float32)
    return out


def blur(region: Image) -> None:
    """Blur ``region`` in place beyond recognition: shrink to ~``DETAIL_PX`` pixels
    along its longer side, smooth, and scale back up."""
    h, w = region.shape[:2]
    scale = DETAIL_PX / max(1, h, w)
    if scale >= 1:
        region[:] = np.asarray(cv2.blur(region, (max(3, w // 2), max(3, h // 2))), np.uint8)
        return
    small = cv2.resize(
        region, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (3, 3), 0)
    region[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def pixelate(region: Image) -> None:
    """Pixelate ``region`` in place: ~``BLOCKS`` flat blocks along its longer side
    (blocks of at least two pixels)."""
    h, w = region.shape[:2]
    block = max(2, -(-max(h, w) // BLOCKS))
    small = cv2.resize(
        region, (max(1, round(w / block)), max(1, round(h / block))), interpolation=cv2.INTER_AREA
    )
    region[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def fill(region: Image, colour: tuple[int, int, int] = (0, 0, 0)) -> None:
    """Paint ``region`` one colour (BGR) in place."""
    region[:] = colour


def apply(image: Image, box: FloatArray, method: Method) -> None:
    """Redact the pixels of ``box`` (whole pixels, inside ``image``) in place."""
    x1, y1, x2, y2 = (int(v) for v in box)
    if x2 <= x1 or y2 <= y1:
        return
    region = image[y1:y2, x1:x2]
    if method == "blur":
        blur(region)
    elif method == "pixelate":
        pixelate(region)
    else:
        fill(region)


class Redactor:
    """A stage that covers faces, plates and chosen classes (per ``PrivacyConfig``).

    ``finder`` finds faces/plates (default: :func:`face_detector` for what is
    switched on: BlazeFace, or Haar when BlazeFace is unavailable). The frame's image
    is copied before it is changed unless ``in_place``; a frame with nothing to
    cover passes unchanged (no copy).

    >>> from sightwire.config.models import PrivacyConfig
    >>> redactor = Redactor(PrivacyConfig(faces="blur", plates="fill"))  # doctest: +SKIP
    >>> safe = redactor(frame)                      # as a stage: faces and plates  # doctest: +SKIP
    >>> safe = redactor.redact(frame, detections)   # and privacy.classes too  # doctest: +SKIP
    >>> safe.metadata["redacted"]  # doctest: +SKIP
    [{'class_name': 'face', 'box': [412.0, 96.0, 530.0, 230.0], 'method': 'blur'}]
    """

    def __init__(
        self,
        privacy: PrivacyConfig,
        finder: FaceFinder | None = None,
        *,
        in_place: bool = False,
    ) -> None:
        self.privacy = privacy
        self.methods: dict[str, Method] = {}
        if privacy.faces != "off":
            self.methods[FACE] = privacy.faces
        if privacy.plates != "off":
            self.methods[PLATE] = privacy.plates
        if finder is None and self.methods:
            finder = face_detector(faces=FACE in self.methods, plates=PLATE in self.methods)
        self.finder = finder
        self.classes = set(privacy.classes)
        self.in_place = in_place

    @property
    def active(self) -> bool:
        """Whether this redactor covers anything at all."""
        return bool(self.methods or self.classes)

    def __call__(self, frame: Frame) -> Frame:
        """Stage form: cover the faces and plates the finder sees in ``frame``."""
        return self.redact(frame)

    def redact(self, frame: Frame, detections: Detections | None = None) -> Frame:
        """``frame`` with its faces and plates covered, and the objects of
        ``privacy.classes`` among ``detections`` (boxes in ``frame.image`` pixels)."""
        boxes, names, methods = self._targets(frame.image, detections)
        if not names:
            return frame
        image = frame.image if self.in_place else frame.image.copy()
        padded = padded_boxes(boxes, self.privacy.padding, frame.width, frame.height)
        for box, method in zip(padded, methods, strict=True):
            apply(image, box, method)
        done: list[dict[str, Any]] = [
            {"class_name": name, "box": [float(v) for v in box], "method": method}
            for name, box, method in zip(names, padded, methods, strict=True)
        ]
        previous = list(frame.metadata.get(REDACTED, []))
        return frame.with_image(image, **{REDACTED: previous + done})

    def _targets(
        self, image: Image, detections: Detections | None
    ) -> tuple[FloatArray, list[str], list[Method]]:
        """Boxes to cover, their class names and methods."""
        parts: list[FloatArray] = []
        names: list[str] = []
        methods: list[Method] = []
        if self.finder is not None:
            found = self.finder.detect(image)
            for box, name in zip(found.xyxy, class_names(found), strict=True):
                if str(name) in self.methods:
                    parts.append(box)
                    names.append(str(name))
                    methods.append(self.methods[str(name)])
        if detections is not None and self.classes and len(detections):
            for box, name in zip(detections.xyxy, class_names(detections), strict=True):
                if str(name) in self.classes:
                    parts.append(box)
                    names.append(str(name))
                    methods.append(self.methods.get(str(name), self.privacy.method))
        boxes = np.asarray(parts, np.float32).reshape(-1, 4)
        return boxes, names, methods
