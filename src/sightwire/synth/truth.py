"""Ground truth of a synthetic clip, written beside it as JSON (``OUT.mp4`` → ``OUT.json``).

Boxes are ``(x1, y1, x2, y2)`` in pixels of the clip, clipped to the frame, with
``x2``/``y2`` exclusive (numpy slice bounds). Per-frame maps go from frame index
(0-based, in decoding order) to a box and hold only the frames where the thing is
at least partly in view.

>>> truth = GroundTruth(scene=SceneInfo(kind="static", width=64, height=48, fps=10,
...                     frames=2, seconds=0.2, seed=0, gop_frames=20),
...                     activity=[False, True])
>>> GroundTruth.model_validate_json(truth.model_dump_json()) == truth
True
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

Box = tuple[int, int, int, int]

VISIBLE_SHARE = 0.2
"""An object counts as activity while at least this share of its area is in view."""


class SceneInfo(BaseModel):
    """What the clip is: its size, rate and the knobs it was made with."""

    kind: Literal["conveyor", "static", "lighting"]
    width: int
    height: int
    fps: float
    frames: int
    seconds: float
    seed: int
    gop_frames: int = Field(description="Frames between keyframes")
    crf: int = Field(20, description="x264 constant rate factor the clip was encoded with")
    noise_sigma: float = Field(0.0, description="Standard deviation of sensor noise, grey levels")
    mm_per_pixel: float | None = Field(None, description="Scale on the belt (conveyor)")
    belt_speed_px_s: float | None = Field(None, description="Belt speed (conveyor), left→right")
    belt_rows: tuple[int, int] | None = Field(None, description="First and end row of the belt")
    motion_blur_px: int = Field(0, description="Length of the horizontal blur on the belt")
    lighting: str = Field("even", description="Illumination of the scene")
    depth_video: str | None = Field(
        None, description="The depth video's file name beside the clip (conveyor), if any"
    )
    depth_fps: float | None = Field(None, description="Pictures per second of the depth video")
    depth_size: tuple[int, int] | None = Field(None, description="(width, height) of depth")
    belt_distance_mm: float | None = Field(None, description="Depth camera to belt, mm")


class ParcelTruth(BaseModel):
    """One parcel on the belt: what it really is, and where it is in every frame."""

    id: str
    tracking_number: str
    length_mm: float = Field(description="Along the belt (x)")
    width_mm: float = Field(description="Across the belt (y)")
    height_mm: float
    weight_kg: float
    color: Literal["brown", "grey"]
    size_px: tuple[int, int] = Field(description="(width, height) seen from above, pixels")
    label_size_px: tuple[int, int]
    label_damaged: bool
    label_readable: bool = Field(description="Barcode and text can be read when in view")
    barcode_damaged: bool = Field(False, description="Only the barcode is smudged")
    text_readable: bool = Field(
        False, description="The printed number can be read (OCR) when in view"
    )
    manifest_mismatch: list[str] = Field(
        default_factory=list, description="Manifest fields deliberately declared wrong"
    )
    entry_frame: int
    exit_frame: int
    entry_s: float
    exit_s: float
    boxes: dict[int, Box]
    label_boxes: dict[int, Box]

    def label_fully_visible(self, frame: int) -> bool:
        """True when the whole label is inside the picture at ``frame``."""
        box = self.label_boxes.get(frame)
        if box is None:
            return False
        return (box[2] - box[0], box[3] - box[1]) == self.label_size_px


class ManifestEntry(BaseModel):
    """What the shipper declared for a parcel (as a WMS would answer a lookup)."""

    tracking_number: str
    length_mm: float
    width_mm: float
    height_mm: float
    weight_kg: float


class ObjectTruth(BaseModel):
    """A moving object of a room scene (a person or a carried box)."""

    id: str
    kind: Literal["person", "box"]
    entry_frame: int
    exit_frame: int
    entry_s: float
    exit_s: float
    boxes: dict[int, Box]


class Interval(BaseModel):
    """A run of frames, both ends included."""

    start_frame: int
    end_frame: int
    start_s: float
    end_s: float

    def __contains__(self, frame: object) -> bool:
        return isinstance(frame, int) and self.start_frame <= frame <= self.end_frame


class LightingChange(BaseModel):
    """A global change of illumination: a ``step`` (one frame) or a ``ramp``."""

    kind: Literal["step", "ramp"]
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    gain_before: float
    gain_after: float


class GroundTruth(BaseModel):
    """Everything known about a synthetic clip.

    ``activity`` has one flag per frame: something is in view (at least
    ``VISIBLE_SHARE`` of it) and moving.
    """

    schema_version: int = 1
    scene: SceneInfo
    activity: list[bool]
    activity_intervals: list[Interval] = Field(default_factory=list)
    parcels: list[ParcelTruth] = Field(default_factory=list)
    manifest: list[ManifestEntry] = Field(default_factory=list)
    objects: list[ObjectTruth] = Field(default_factory=list)
    lighting_changes: list[LightingChange] = Field(default_factory=list)

    @staticmethod
    def path_for(video: str | Path) -> Path:
        """Where the ground truth of ``video`` lives: the same name ending in ``.json``."""
        return Path(video).with_suffix(".json")

    def save(self, path: str | Path) -> Path:
        """Write this ground truth as indented JSON to ``path``."""
        target = Path(path)
        target.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        return target

    @classmethod
    def load(cls, path: str | Path) -> GroundTruth:
        """Read ground truth from ``path`` (a ``.json``, or the ``.mp4`` it sits beside)."""
        source = Path(path)
        if source.suffix != ".json":
            source = cls.path_for(source)
        return cls.model_validate_json(source.read_text(encoding="utf-8"))


def intervals_from_flags(flags: Sequence[bool], fps: float) -> list[Interval]:
    """Runs of true flags as intervals (times are frame index / fps)."""
    runs: list[Interval] = []
    start: int | None = None
    for index, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            end = index - 1
            runs.append(
                Interval(
                    start_frame=start,
                    end_frame=end,
                    start_s=round(start / fps, 4),
                    end_s=round(end / fps, 4),
                )
            )
            start = None
    return runs


def clip_box(x1: int, y1: int, x2: int, y2: int, width: int, height: int) -> Box | None:
    """The part of a box inside a ``width`` x ``height`` picture, or None if none is."""
    box = (max(x1, 0), max(y1, 0), min(x2, width), min(y2, height))
    if box[0] >= box[2] or box[1] >= box[3]:
        return None
    return box


def visible_share(box: Box | None, full_area: int) -> float:
    """Share of an object's area (``full_area`` pixels) that ``box`` shows."""
    if box is None or full_area <= 0:
        return 0.0
    return (box[2] - box[0]) * (box[3] - box[1]) / full_area
