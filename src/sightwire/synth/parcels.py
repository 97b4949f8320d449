"""Parcels of the conveyor scene: sizes, schedule on the belt, pictures, manifest.

A parcel rides the belt, so its left edge at frame ``i`` is ``shift[i] - belt_u``,
where ``shift[i]`` is how far the belt has moved by then (whole pixels) and
``belt_u`` is where on the belt the parcel was put.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.core.frame import Image
from sightwire.synth.labels import render_label, tracking_number
from sightwire.synth.textures import fine_grain, shade, smooth_noise
from sightwire.synth.truth import ManifestEntry, ParcelTruth, clip_box

Shift = npt.NDArray[np.int64]

COLORS = {"brown": (92, 142, 184), "grey": (150, 152, 148)}
GAP_PX = 60
"""Least free belt between two parcels, pixels."""
EDGE_PX = 12
"""Least distance between a label and the parcel's edge, and a parcel and the belt's."""
MANIFEST_FIELDS = ("length_mm", "width_mm", "height_mm", "weight_kg")


@dataclass(frozen=True, slots=True)
class Parcel:
    """A planned parcel: true size, place on the belt, picture and label placement."""

    index: int
    tracking_number: str
    width_px: int
    height_px: int
    height_mm: float
    weight_kg: float
    color: Literal["brown", "grey"]
    top: int
    belt_u: int
    label_xy: tuple[int, int]
    label_wh: tuple[int, int]
    label_damaged: bool
    sprite: Image
    barcode_damaged: bool = False

    def left(self, shift: int) -> int:
        """x of the parcel's left edge once the belt has moved ``shift`` pixels."""
        return shift - self.belt_u


@dataclass(frozen=True, slots=True)
class Layout:
    """Where parcels may go: frame size, belt band, scale, speed and timing."""

    width: int
    height: int
    belt_rows: tuple[int, int]
    mm_per_pixel: float
    speed_px_s: float
    fps: float
    frames: int


def plan_parcels(
    rng: np.random.Generator,
    layout: Layout,
    count: int,
    damaged: int,
    seed: int,
    *,
    damaged_barcodes: int = 0,
) -> list[Parcel]:
    """Draw ``count`` parcels (``damaged`` of them with a smudged label, and
    ``damaged_barcodes`` others with only the barcode smudged) and schedule them so
    that each crosses the whole picture before the clip ends."""
    if count < 0 or not 0 <= damaged <= count or not 0 <= damaged_barcodes <= count - damaged:
        raise ValueError(
            f"need 0 <= damaged_labels ({damaged}) and 0 <= damaged_barcodes "
            f"({damaged_barcodes}), together at most parcels ({count})"
        )
    numbers = _unique_numbers(rng, count)
    broken = set(rng.choice(count, size=damaged, replace=False).tolist()) if damaged else set()
    # Their own generator: a clip without scratched barcodes draws as it always did.
    whole = [i for i in range(count) if i not in broken]
    picked = np.random.default_rng([seed, 23]).choice(whole, size=damaged_barcodes, replace=False)
    scratched = set(picked.tolist())
    labels = [
        render_label(n, damaged=i in broken, barcode_damaged=i in scratched, seed=seed + i)
        for i, n in enumerate(numbers)
    ]
    sizes = [_size_px(rng, layout, label) for label in labels]
    entries = _entry_frames(rng, layout, [w for w, _ in sizes])
    shift = belt_shift(layout)
    parcels = []
    for i, (number, label, (w, h), entry) in enumerate(
        zip(numbers, labels, sizes, entries, strict=True)
    ):
        color: Literal["brown", "grey"] = "brown" if rng.random() < 0.7 else "grey"
        height_mm = float(round(rng.uniform(120, 500) / 5) * 5)
        volume_m3 = w * h * layout.mm_per_pixel**2 * height_mm * 1e-9
        label_h, label_w = label.shape[:2]
        label_xy = (
            int(rng.integers(EDGE_PX, w - label_w - EDGE_PX + 1)),
            int(rng.integers(EDGE_PX, h - label_h - EDGE_PX + 1)),
        )
        top, bottom = layout.belt_rows
        parcels.append(
            Parcel(
                index=i,
                tracking_number=number,
                width_px=w,
                height_px=h,
                height_mm=height_mm,
                weight_kg=round(volume_m3 * rng.uniform(80, 250), 2),
                color=color,
                top=int(rng.integers(top + EDGE_PX, bottom - EDGE_PX - h + 1)),
                belt_u=int(shift[entry]) + w,
                label_xy=label_xy,
                label_wh=(label_w, label_h),
                label_damaged=i in broken,
                sprite=_sprite(rng, color, w, h, label, label_xy),
                barcode_damaged=i in scratched,
            )
        )
    return parcels


def belt_shift(layout: Layout) -> Shift:
    """How far (whole pixels) the belt has moved at each frame."""
    seconds = np.arange(layout.frames + 1) / layout.fps
    return np.rint(seconds * layout.speed_px_s).astype(np.int64)


def _unique_numbers(rng: np.random.Generator, count: int) -> list[str]:
    numbers: list[str] = []
    while len(numbers) < count:
        number = tracking_number(rng)
        if number not in numbers:
            numbers.append(number)
    return numbers


def _size_px(rng: np.random.Generator, layout: Layout, label: Image) -> tuple[int, int]:
    """Parcel size seen from above: 380-650 mm along the belt, 260-480 mm across it,
    never smaller than its label, never wider than the belt."""
    mmpp = layout.mm_per_pixel
    label_h, label_w = label.shape[:2]
    belt = layout.belt_rows[1] - layout.belt_rows[0] - 2 * EDGE_PX
    w_lo, w_hi = max(round(380 / mmpp), label_w + 2 * EDGE_PX), round(650 / mmpp)
    h_lo, h_hi = max(round(260 / mmpp), label_h + 2 * EDGE_PX), min(round(480 / mmpp), belt)
    w_hi, h_hi = max(w_hi, w_lo), min(max(h_hi, h_lo), belt)
    if h_lo > h_hi or w_lo > layout.width - 2 * EDGE_PX:
        raise ValueError(
            f"a {layout.width}x{layout.height} picture at {mmpp} mm/px cannot hold parcels "
            f"with readable labels: use a larger size or a larger mm_per_pixel"
        )
    return int(rng.integers(w_lo, w_hi + 1)), int(rng.integers(h_lo, h_hi + 1))


def _entry_frames(rng: np.random.Generator, layout: Layout, widths: list[int]) -> list[int]:
    """Frames at which each parcel's right edge reaches x = 0, spread over the clip."""
    if not widths:
        return []
    speed, fps = layout.speed_px_s, layout.fps
    first = 0.6
    least = [(w + GAP_PX) / speed for w in widths[:-1]]
    last_cross = (layout.width + widths[-1]) / speed
    slack = (layout.frames - 1) / fps - 0.2 - last_cross - first - sum(least)
    if slack < 0:
        raise ValueError(
            f"{len(widths)} parcels cannot all cross the picture in {layout.frames / fps:.1f} s "
            f"at {speed:g} px/s: use fewer parcels, more seconds or a faster belt"
        )
    shares = rng.dirichlet(np.ones(len(widths) + 1)) * slack
    times = first + np.cumsum(shares[:-1]) + np.concatenate([[0.0], np.cumsum(least)])
    # Rounding to frames must not bring two parcels closer than their gap.
    return [
        int(np.floor(t * fps)) if i == 0 else int(np.ceil(t * fps)) for i, t in enumerate(times)
    ]


def _sprite(
    rng: np.random.Generator, color: str, w: int, h: int, label: Image, at: tuple[int, int]
) -> Image:
    """The parcel from above: cardboard or grey plastic, darker rim, tape, label."""
    base = tuple(int(c) for c in np.clip(np.add(COLORS[color], rng.integers(-12, 13, 3)), 0, 255))
    light = smooth_noise(rng, h, w, 40) * 5.0 + fine_grain(rng, h, w, 2.5)
    sprite = shade((base[0], base[1], base[2]), light)
    rim = tuple(int(c * 0.72) for c in base)
    cv2.rectangle(sprite, (0, 0), (w - 1, h - 1), rim, 3)
    if color == "brown":
        tape = max(8, h // 9)
        y = h // 2 - tape // 2
        sprite[y : y + tape, 2:-2] = np.clip(sprite[y : y + tape, 2:-2] * 1.12 + 8, 0, 255)
    x, y = at
    sprite[y : y + label.shape[0], x : x + label.shape[1]] = label
    return sprite


def parcel_truth(
    parcel: Parcel, shift: Shift, layout: Layout, mismatch: list[str], readable: bool
) -> ParcelTruth:
    """Ground truth of one parcel: true size and its boxes in every frame it shows.
    ``readable``: the label is sharp enough to read, if it is not damaged."""
    boxes, label_boxes = {}, {}
    lx, ly = parcel.label_xy
    lw, lh = parcel.label_wh
    for frame in range(layout.frames):
        left = parcel.left(int(shift[frame]))
        box = clip_box(
            left,
            parcel.top,
            left + parcel.width_px,
            parcel.top + parcel.height_px,
            layout.width,
            layout.height,
        )
        if box is None:
            continue
        boxes[frame] = box
        label = clip_box(
            left + lx,
            parcel.top + ly,
            left + lx + lw,
            parcel.top + ly + lh,
            layout.width,
            layout.height,
        )
        if label is not None:
            label_boxes[frame] = label
    shown = sorted(boxes) or [0]
    mmpp = layout.mm_per_pixel
    return ParcelTruth(
        id=f"P{parcel.index + 1:03d}",
        tracking_number=parcel.tracking_number,
        length_mm=parcel.width_px * mmpp,
        width_mm=parcel.height_px * mmpp,
        height_mm=parcel.height_mm,
        weight_kg=parcel.weight_kg,
        color=parcel.color,
        size_px=(parcel.width_px, parcel.height_px),
        label_size_px=parcel.label_wh,
        label_damaged=parcel.label_damaged,
        label_readable=readable and not parcel.label_damaged and not parcel.barcode_damaged,
        barcode_damaged=parcel.barcode_damaged,
        text_readable=readable and not parcel.label_damaged,
        manifest_mismatch=mismatch,
        entry_frame=shown[0],
        exit_frame=shown[-1],
        entry_s=round(shown[0] / layout.fps, 4),
        exit_s=round(shown[-1] / layout.fps, 4),
        boxes=boxes,
        label_boxes=label_boxes,
    )


def manifest(
    rng: np.random.Generator, truths: list[ParcelTruth], mismatch_share: float
) -> tuple[list[ManifestEntry], dict[str, list[str]]]:
    """Declared sizes and weights; ``mismatch_share`` of the parcels get one field
    declared 8-20 % off. Returns the manifest and, per tracking number, the wrong fields."""
    if not 0 <= mismatch_share <= 1:
        raise ValueError(f"mismatch_share must be within 0..1, got {mismatch_share}")
    count = round(mismatch_share * len(truths))
    wrong = set(rng.choice(len(truths), size=count, replace=False).tolist()) if count else set()
    # The fields in turn from the first one drawn, so every kind of mismatch occurs.
    # One draw per wrong parcel all the same: the clip's later draws stay as they were.
    start = 0
    entries: list[ManifestEntry] = []
    mismatches: dict[str, list[str]] = {}
    for i, truth in enumerate(truths):
        declared = {f: float(getattr(truth, f)) for f in MANIFEST_FIELDS}
        if i in wrong:
            drawn = MANIFEST_FIELDS.index(str(rng.choice(MANIFEST_FIELDS)))
            start = drawn if not mismatches else start
            field = MANIFEST_FIELDS[(start + len(mismatches)) % len(MANIFEST_FIELDS)]
            sign = 1.0 if rng.random() < 0.5 else -1.0
            declared[field] *= 1.0 + sign * rng.uniform(0.08, 0.20)
            mismatches[truth.tracking_number] = [field]
        entries.append(
            ManifestEntry(
                tracking_number=truth.tracking_number,
                length_mm=round(declared["length_mm"]),
                width_mm=round(declared["width_mm"]),
                height_mm=round(declared["height_mm"]),
                weight_kg=round(declared["weight_kg"], 2),
            )
        )
    return entries, mismatches
