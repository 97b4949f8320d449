"""Conveyor frames with their boxes, rendered in memory (no video encoding, no torch).

``ConveyorScene`` draws the same scene as ``sightwire.synth.write_conveyor`` with the
same building blocks (parcel plan, textures, lamp, sensor noise, motion blur) and the
same ground-truth function, but renders single frames as BGR arrays instead of encoding
an MP4. For the same arguments a frame equals the clip's frame before H.264 compression
(the random draws are made in the same order).

Visibility rule (training targets and evaluation alike): an object (a parcel or a
label) is a *positive* in a frame when at least ``VISIBLE_SHARE`` (20 %, the synth
package's own activity rule) of its area is in view; an object less visible than that
is *ignored*: the detector is neither rewarded nor punished for it (in evaluation, a
detection on it is neither a true nor a false positive, like VOC's "difficult" or
COCO's "ignore" objects).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from sightwire.synth.conveyor import ConveyorPainter, conveyor_layout
from sightwire.synth.parcels import belt_shift, manifest, parcel_truth, plan_parcels
from sightwire.synth.truth import VISIBLE_SHARE, ParcelTruth

CLASSES = ("parcel", "label")
Boxes = npt.NDArray[np.float32]


@dataclass
class Sample:
    """One frame and its objects: boxes (x1, y1, x2, y2, pixels, x2/y2 exclusive), class
    ids, which are ignored (less than ``VISIBLE_SHARE`` in view), and each object's full
    area in pixels (to apply the rule again after cropping)."""

    image: npt.NDArray[np.uint8]
    boxes: Boxes
    classes: npt.NDArray[np.int64]
    ignored: npt.NDArray[np.bool_]
    full_area: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    frame: int = 0


class ConveyorScene:
    """The conveyor scene of ``write_conveyor(**options)``, frame by frame."""

    def __init__(
        self,
        *,
        seconds: float = 20.0,
        fps: float = 25.0,
        size: tuple[int, int] = (1280, 720),
        parcels: int = 6,
        belt_speed_px_s: float = 360.0,
        mm_per_pixel: float = 1.5,
        seed: int = 0,
        lighting: str = "even",
        noise: float = 1.5,
        motion_blur: float = 0.0,
        mismatch_share: float = 0.25,
    ) -> None:
        self.layout = conveyor_layout(size, seconds, fps, mm_per_pixel, belt_speed_px_s)
        rng = np.random.default_rng(seed)
        self.parcels = plan_parcels(rng, self.layout, parcels, min(1, parcels), seed)
        self.blur_px = round(motion_blur * belt_speed_px_s / fps)
        self.shift = belt_shift(self.layout)
        self.truths = [parcel_truth(p, self.shift, self.layout, [], True) for p in self.parcels]
        manifest(rng, self.truths, mismatch_share)  # keeps write_conveyor's order of draws
        self.painter = ConveyorPainter(
            rng, self.layout, self.parcels, self.shift, lighting, noise, self.blur_px, seed
        )

    @property
    def frames(self) -> int:
        return self.layout.frames

    def render(self, index: int) -> Sample:
        """Frame ``index`` (BGR) with its objects."""
        return objects_in_frame(self.painter.paint(index), self.truths, index)


def conveyor_frames(frames: Iterable[int] | None = None, **options: object) -> Iterator[Sample]:
    """Yield the chosen ``frames`` (default: all) of ``write_conveyor(**options)``."""
    scene = ConveyorScene(**options)  # type: ignore[arg-type]
    for index in range(scene.frames) if frames is None else sorted(set(frames)):
        if 0 <= index < scene.frames:
            yield scene.render(index)


def objects_in_frame(
    image: npt.NDArray[np.uint8], truths: Iterable[ParcelTruth], index: int
) -> Sample:
    """A sample of ``image`` with the parcels and labels ``truths`` put in view at
    frame ``index``, each flagged ignored when less than ``VISIBLE_SHARE`` shows."""
    boxes, classes, ignored, areas = [], [], [], []
    for truth in truths:
        parts = ((0, truth.boxes, truth.size_px), (1, truth.label_boxes, truth.label_size_px))
        for cls, per_frame, (w, h) in parts:
            box = per_frame.get(index)
            if box is None:
                continue
            x1, y1, x2, y2 = box
            boxes.append((x1, y1, x2, y2))
            classes.append(cls)
            ignored.append((x2 - x1) * (y2 - y1) / (w * h) < VISIBLE_SHARE)
            areas.append(w * h)
    return Sample(
        image=image,
        boxes=np.asarray(boxes, np.float32).reshape(-1, 4),
        classes=np.asarray(classes, np.int64),
        ignored=np.asarray(ignored, bool),
        full_area=np.asarray(areas, np.float32),
        frame=index,
    )
