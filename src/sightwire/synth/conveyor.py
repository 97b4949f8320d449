"""The conveyor scene: parcels with shipping labels riding a belt, seen from above.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "belt.mp4"
>>> truth = write_conveyor(out, seconds=6, parcels=1)
>>> truth.scene.frames, truth.parcels[0].tracking_number.startswith("1Z")
(150, True)
>>> GroundTruth.load(out.with_suffix(".json")) == truth
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from sightwire.core.frame import Image
from sightwire.synth.depth import write_depth
from sightwire.synth.parcels import (
    Layout,
    Parcel,
    Shift,
    belt_shift,
    manifest,
    parcel_truth,
    plan_parcels,
)
from sightwire.synth.textures import belt_texture, conveyor_background, illumination
from sightwire.synth.truth import (
    VISIBLE_SHARE,
    GroundTruth,
    ParcelTruth,
    SceneInfo,
    intervals_from_flags,
    visible_share,
)
from sightwire.synth.video import Mp4Writer, SensorNoise, check_size, frame_count

BELT_PERIOD = 640
"""Length of one belt segment, pixels: a seam passes every this many pixels."""
READABLE_BLUR_PX = 1
"""Longest motion blur (pixels) that leaves one-pixel barcode modules readable."""


def conveyor_layout(
    size: tuple[int, int], seconds: float, fps: float, mm_per_pixel: float, speed_px_s: float
) -> Layout:
    """The geometry of a conveyor scene: the belt spans rows 1/6 to 5/6 of the picture."""
    width, height = size
    return Layout(
        width=width,
        height=height,
        belt_rows=(round(height / 6), round(height * 5 / 6)),
        mm_per_pixel=mm_per_pixel,
        speed_px_s=speed_px_s,
        fps=fps,
        frames=frame_count(seconds, fps),
    )


def write_conveyor(
    path: str | Path,
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
    damaged_labels: int | None = None,
    damaged_barcodes: int = 0,
    mismatch_share: float = 0.25,
    depth: DepthOptions | None = None,
) -> GroundTruth:
    """Write an overhead conveyor clip to ``path`` (H.264 MP4) and its ground truth
    beside it (``.json``); return the ground truth.

    The belt (rows 1/6 to 5/6 of the picture) moves left to right at
    ``belt_speed_px_s``; ``parcels`` boxes ride it, each with a white label carrying
    its tracking number as Code128 and as text. ``damaged_labels`` of them (default:
    one, if there are parcels) are smudged unreadable; ``damaged_barcodes`` others have
    only their barcode smudged, the printed number left for OCR. ``motion_blur`` is the share of
    a frame interval the shutter stays open (0 = sharp). ``lighting`` is ``even`` or
    ``uneven`` (one overhead lamp). ``mismatch_share`` of the parcels get a manifest
    entry with one field declared 8-20 % off (length, width, height and weight in
    turn). With ``depth``, a top-down depth video of the same scene is written too
    (``OUT.depth.mkv``, see :mod:`sightwire.synth.depth`); the colour clip is the same
    with or without it. The same arguments always give the same clip.

    >>> truth = write_conveyor("/tmp/belt.mp4", seconds=12, parcels=3, seed=7)  # doctest: +SKIP
    """
    check_size(size)
    width, height = size
    layout = conveyor_layout(size, seconds, fps, mm_per_pixel, belt_speed_px_s)
    if belt_speed_px_s <= 0 or mm_per_pixel <= 0:
        raise ValueError("belt_speed_px_s and mm_per_pixel must be positive")
    if not 0 <= motion_blur <= 1:
        raise ValueError(f"motion_blur must be within 0..1, got {motion_blur}")
    rng = np.random.default_rng(seed)
    damaged = min(1, parcels) if damaged_labels is None else damaged_labels
    planned = plan_parcels(rng, layout, parcels, damaged, seed, damaged_barcodes=damaged_barcodes)
    blur_px = round(motion_blur * belt_speed_px_s / fps)
    shift = belt_shift(layout)
    truths = [parcel_truth(p, shift, layout, [], blur_px <= READABLE_BLUR_PX) for p in planned]
    entries, wrong = manifest(rng, truths, mismatch_share)
    truths = [
        t.model_copy(update={"manifest_mismatch": wrong.get(t.tracking_number, [])}) for t in truths
    ]
    painter = ConveyorPainter(rng, layout, planned, shift, lighting, noise, blur_px, seed)
    writer = _render(path, painter)
    activity = _activity(truths, layout.frames)
    depth_info = {} if depth is None else _write_depth(path, layout, planned, depth, seed)
    truth = GroundTruth(
        scene=SceneInfo(
            kind="conveyor",
            width=width,
            height=height,
            fps=fps,
            frames=layout.frames,
            seconds=layout.frames / fps,
            seed=seed,
            gop_frames=writer.gop_frames,
            crf=writer.crf,
            noise_sigma=noise,
            mm_per_pixel=mm_per_pixel,
            belt_speed_px_s=belt_speed_px_s,
            belt_rows=layout.belt_rows,
            motion_blur_px=blur_px,
            lighting=lighting,
            **depth_info,
        ),
        activity=activity,
        activity_intervals=intervals_from_flags(activity, fps),
        parcels=truths,
        manifest=entries,
    )
    truth.save(GroundTruth.path_for(path))
    return truth


class ConveyorPainter:
    """Draws the frames of one conveyor scene. Textures are made once (drawing from
    ``rng`` in a fixed order, so the same seed gives the same pictures); each frame is
    slices of them.

    >>> # painter = ConveyorPainter(rng, layout, parcels, shift, "even", 1.5, 0, seed)
    >>> # image = painter.paint(index)      # BGR, the frame write_conveyor encodes
    """

    def __init__(
        self,
        rng: np.random.Generator,
        layout: Layout,
        parcels: list[Parcel],
        shift: Shift,
        lighting: str,
        noise: float,
        blur_px: int,
        seed: int,
    ) -> None:
        width, height = layout.width, layout.height
        top, bottom = layout.belt_rows
        self.layout, self.parcels, self.shift, self.blur_px = layout, parcels, shift, blur_px
        self.light = illumination(lighting, height, width)
        background = conveyor_background(rng, height, width, layout.belt_rows)
        texture = belt_texture(rng, bottom - top, BELT_PERIOD)
        self.belt = np.tile(texture, (1, width // BELT_PERIOD + 2, 1))
        self.sensor = SensorNoise(sigma=noise, size=(width, height), seed=seed)
        self._frame = background.copy()

    def paint(self, index: int) -> Image:
        """Frame ``index`` as the camera sees it (a new array)."""
        frame, width = self._frame, self.layout.width
        top, bottom = self.layout.belt_rows
        moved = int(self.shift[index])
        start = (-moved) % BELT_PERIOD
        frame[top:bottom] = self.belt[:, start : start + width]
        for parcel in self.parcels:
            _paste(frame, parcel, parcel.left(moved))
        if self.blur_px > 1:
            frame[top:bottom] = cv2.blur(frame[top:bottom], (self.blur_px, 1))
        if self.light is None:
            shown = frame.copy()
        else:
            shown = np.asarray(cv2.multiply(frame, self.light, scale=1 / 255), np.uint8)
        self.sensor.apply(shown)
        return shown


@dataclass(frozen=True, slots=True)
class DepthOptions:
    """How :func:`write_conveyor` makes the depth video: pictures per second, how many
    times coarser than the colour picture, distance to the belt and sensor noise."""

    fps: float = 10.0
    scale: int = 4
    belt_mm: float = 2000.0
    noise_mm: float = 1.5


def _write_depth(
    path: str | Path, layout: Layout, parcels: list[Parcel], depth: DepthOptions, seed: int
) -> dict[str, Any]:
    """Write the depth video; its facts for :class:`SceneInfo`."""
    written = write_depth(
        path,
        layout,
        parcels,
        fps=depth.fps,
        belt_mm=depth.belt_mm,
        scale=depth.scale,
        noise_mm=depth.noise_mm,
        seed=seed,
    )
    return {
        "depth_video": written.name,
        "depth_fps": depth.fps,
        "depth_size": (layout.width // depth.scale, layout.height // depth.scale),
        "belt_distance_mm": depth.belt_mm,
    }


def _render(path: str | Path, painter: ConveyorPainter) -> Mp4Writer:
    """Paint and encode every frame."""
    layout = painter.layout
    with Mp4Writer(path, fps=layout.fps, size=(layout.width, layout.height)) as writer:
        for index in range(layout.frames):
            writer.write(painter.paint(index))
    return writer


def _paste(frame: Image, parcel: Parcel, left: int) -> None:
    """Draw the part of ``parcel`` that is inside the picture."""
    width = frame.shape[1]
    x1, x2 = max(left, 0), min(left + parcel.width_px, width)
    if x1 >= x2:
        return
    rows = slice(parcel.top, parcel.top + parcel.height_px)
    frame[rows, x1:x2] = parcel.sprite[:, x1 - left : x2 - left]


def _activity(truths: list[ParcelTruth], frames: int) -> list[bool]:
    """Per frame: is some parcel at least ``VISIBLE_SHARE`` in view (parcels always move)."""
    flags = [False] * frames
    for truth in truths:
        area = truth.size_px[0] * truth.size_px[1]
        for frame, box in truth.boxes.items():
            if visible_share(box, area) >= VISIBLE_SHARE:
                flags[frame] = True
    return flags
