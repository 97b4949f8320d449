"""The conveyor clip shows what its ground truth says: parcels, labels, manifest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zxingcpp

from sightwire.sources.depth import DepthVideo
from sightwire.synth import VISIBLE_SHARE, DepthOptions, ParcelTruth, write_conveyor
from sightwire.synth.depth import FLOOR_BELOW_MM

from .scenes import Clip, Image, frames


def _read_label(image: Image, parcel: ParcelTruth, frame: int) -> list[str]:
    """Code128 texts zxing-cpp finds around the parcel's label at ``frame``."""
    x1, y1, x2, y2 = parcel.label_boxes[frame]
    region = image[max(y1 - 8, 0) : y2 + 8, max(x1 - 8, 0) : x2 + 8]
    return [b.text for b in zxingcpp.read_barcodes(region, formats=zxingcpp.BarcodeFormat.Code128)]


@pytest.fixture(scope="module")
def readings(conveyor: Clip) -> dict[str, list[list[str]]]:
    """Per parcel id, the barcodes read at every 2nd frame where its label is in view."""
    found: dict[str, list[list[str]]] = {p.id: [] for p in conveyor.truth.parcels}
    for index, image in frames(conveyor.path, every=2):
        for parcel in conveyor.truth.parcels:
            if parcel.label_fully_visible(index):
                found[parcel.id].append(_read_label(image, parcel, index))
    return found


def test_the_clip_has_readable_and_damaged_labels(conveyor: Clip) -> None:
    readable = [p.label_readable for p in conveyor.truth.parcels]
    assert readable.count(False) == 1 and readable.count(True) == 2
    numbers = [p.tracking_number for p in conveyor.truth.parcels]
    assert len(set(numbers)) == len(numbers)
    assert all(n.startswith("1Z") and len(n) == 18 and n.isalnum() and n.isupper() for n in numbers)


def test_readable_labels_decode_in_every_frame_they_are_in_view(
    conveyor: Clip, readings: dict[str, list[list[str]]]
) -> None:
    for parcel in conveyor.truth.parcels:
        if parcel.label_readable:
            assert len(readings[parcel.id]) >= 10, "label should be in view for a while"
            assert all(texts == [parcel.tracking_number] for texts in readings[parcel.id])


def test_the_damaged_label_never_decodes(
    conveyor: Clip, readings: dict[str, list[list[str]]]
) -> None:
    damaged = [p for p in conveyor.truth.parcels if p.label_damaged]
    assert damaged and not damaged[0].label_readable
    assert readings[damaged[0].id], "the damaged label must be in view"
    assert all(parcel_texts == [] for parcel_texts in readings[damaged[0].id])


def test_barcodes_are_found_in_whole_frames(conveyor: Clip) -> None:
    """zxing-cpp finds the readable labels without being told where they are."""
    truth = conveyor.truth
    wanted = {p.id: p for p in truth.parcels if p.label_readable}
    seen: set[str] = set()
    for index, image in frames(conveyor.path, every=10):
        texts = {b.text for b in zxingcpp.read_barcodes(image)}
        for parcel in truth.parcels:
            if parcel.label_fully_visible(index) and parcel.id in wanted:
                assert parcel.tracking_number in texts
                seen.add(parcel.id)
            if parcel.label_damaged:
                assert parcel.tracking_number not in texts
    assert seen == set(wanted)


def test_parcel_boxes_follow_the_belt(conveyor: Clip) -> None:
    scene = conveyor.truth.scene
    assert scene.mm_per_pixel and scene.belt_speed_px_s and scene.belt_rows
    step = scene.belt_speed_px_s / scene.fps
    for parcel in conveyor.truth.parcels:
        width, height = parcel.size_px
        assert parcel.length_mm == pytest.approx(width * scene.mm_per_pixel)
        assert parcel.width_mm == pytest.approx(height * scene.mm_per_pixel)
        assert sorted(parcel.boxes) == list(range(parcel.entry_frame, parcel.exit_frame + 1))
        assert parcel.exit_frame < scene.frames - 1, "every parcel leaves before the end"
        lefts = [box[2] - width if box[0] == 0 else box[0] for box in parcel.boxes.values()]
        moves = np.diff(lefts)
        assert np.all(np.abs(moves - step) <= 1), "parcels move with the belt"
        for frame, box in parcel.boxes.items():
            assert scene.belt_rows[0] <= box[1] < box[3] <= scene.belt_rows[1]
            label = parcel.label_boxes.get(frame)
            if label is not None:
                assert box[0] <= label[0] < label[2] <= box[2]
                assert box[1] <= label[1] < label[3] <= box[3]


def test_parcels_are_drawn_where_the_truth_says(conveyor: Clip) -> None:
    """Inside a parcel's box the picture is cardboard or plastic; just outside, belt."""
    truth = conveyor.truth
    checked = 0
    for index, image in frames(conveyor.path, every=25):
        grey = image.mean(axis=2)
        for parcel in truth.parcels:
            box = parcel.boxes.get(index)
            if box is None or (box[2] - box[0], box[3] - box[1]) != parcel.size_px:
                continue
            x1, y1, _, y2 = box
            inside = grey[y1 + 4 : y2 - 4, x1 + 4 : x1 + 10].mean()
            outside = grey[y1 + 4 : y2 - 4, max(x1 - 8, 0) : max(x1 - 2, 1)].mean()
            assert inside > outside + 40
            checked += 1
    assert checked >= 3


def test_activity_flags_frames_with_a_parcel_in_view(conveyor: Clip) -> None:
    truth = conveyor.truth
    for frame, active in enumerate(truth.activity):
        shares = [
            (b[2] - b[0]) * (b[3] - b[1]) / (p.size_px[0] * p.size_px[1])
            for p in truth.parcels
            if (b := p.boxes.get(frame)) is not None
        ]
        assert active == any(share >= VISIBLE_SHARE for share in shares)
    first = min(p.entry_frame for p in truth.parcels)
    assert not any(truth.activity[:first])
    assert truth.activity_intervals[0].start_frame >= first


def test_manifest_declares_some_parcels_wrongly(conveyor: Clip) -> None:
    truth = conveyor.truth
    assert [m.tracking_number for m in truth.manifest] == [p.tracking_number for p in truth.parcels]
    wrong = [p for p in truth.parcels if p.manifest_mismatch]
    assert len(wrong) == round(0.34 * len(truth.parcels))
    for parcel, entry in zip(truth.parcels, truth.manifest, strict=True):
        for field in ("length_mm", "width_mm", "height_mm", "weight_kg"):
            off = abs(getattr(entry, field) / getattr(parcel, field) - 1)
            if field in parcel.manifest_mismatch:
                assert 0.075 <= off <= 0.205
            else:
                assert off < 0.01


def test_motion_blur_makes_labels_unreadable(tmp_path: Path) -> None:
    truth = write_conveyor(
        tmp_path / "blur.mp4", seconds=6.0, parcels=1, motion_blur=0.5, damaged_labels=0, seed=4
    )
    parcel = truth.parcels[0]
    assert truth.scene.motion_blur_px >= 2 and not parcel.label_readable
    visible = [i for i, _ in frames(tmp_path / "blur.mp4") if parcel.label_fully_visible(i)]
    assert visible
    for index, image in frames(tmp_path / "blur.mp4", every=3):
        if parcel.label_fully_visible(index):
            assert _read_label(image, parcel, index) == []


def test_uneven_lighting_darkens_the_corners(tmp_path: Path) -> None:
    even = write_conveyor(tmp_path / "even.mp4", seconds=1.0, parcels=0, seed=1)
    write_conveyor(tmp_path / "uneven.mp4", seconds=1.0, parcels=0, seed=1, lighting="uneven")
    assert even.scene.lighting == "even"
    (_, flat), (_, lamp) = (
        next(frames(tmp_path / "even.mp4")),
        next(frames(tmp_path / "uneven.mp4")),
    )
    corner = (slice(0, 60), slice(1180, 1280))
    middle = (slice(330, 390), slice(500, 560))
    assert lamp[corner].mean() < 0.8 * flat[corner].mean()
    assert lamp[middle].mean() == pytest.approx(flat[middle].mean(), rel=0.05)


def test_every_kind_of_mismatch_is_declared(tmp_path: Path) -> None:
    truth = write_conveyor(
        tmp_path / "mix.mp4", seconds=40, parcels=12, seed=5, fps=5, mismatch_share=0.34
    )
    kinds = [p.manifest_mismatch[0] for p in truth.parcels if p.manifest_mismatch]
    assert sorted(set(kinds)) == ["height_mm", "length_mm", "weight_kg", "width_mm"]


def test_the_depth_video_shows_each_parcel_at_its_true_height(tmp_path: Path) -> None:
    clip = tmp_path / "belt.mp4"
    depth = DepthOptions(fps=5, scale=4, belt_mm=1800, noise_mm=1.0)
    truth = write_conveyor(clip, seconds=8, fps=10, parcels=2, seed=2, depth=depth)
    plain = write_conveyor(tmp_path / "plain.mp4", seconds=8, fps=10, parcels=2, seed=2)
    # Depth changes nothing else: the same colour clip and truth.
    assert (tmp_path / "plain.mp4").read_bytes() == clip.read_bytes()
    assert plain.parcels == truth.parcels
    scene = truth.scene
    assert (scene.depth_video, scene.depth_fps, scene.depth_size) == (
        "belt.depth.mkv",
        5,
        (320, 180),
    )
    pictures = list(DepthVideo(tmp_path / "belt.depth.mkv").frames())
    assert len(pictures) == 40 and pictures[3][0] == pytest.approx(0.6)
    top, bottom = scene.belt_rows or (0, 0)
    checked = 0
    belt = slice(top // 4 + 2, bottom // 4 - 2)
    for t, picture in pictures:
        frame = round(t * scene.fps)
        assert abs(float(np.median(picture[: top // 4 - 1])) - 1800 - FLOOR_BELOW_MM) <= 1
        if not any(frame in p.boxes for p in truth.parcels):
            assert abs(float(np.median(picture[belt])) - 1800) <= 1
        for parcel in truth.parcels:
            box = parcel.boxes.get(frame)
            if box is None or (box[2] - box[0], box[3] - box[1]) != parcel.size_px:
                continue
            x1, y1, x2, y2 = (box[0] // 4 + 2, box[1] // 4 + 2, box[2] // 4 - 2, box[3] // 4 - 2)
            inside = picture[y1:y2, x1:x2]
            assert np.median(inside[inside > 0]) == pytest.approx(1800 - parcel.height_mm, abs=1)
            checked += 1
    assert checked >= 10


def test_a_smudged_barcode_leaves_the_printed_number(tmp_path: Path) -> None:
    clip = tmp_path / "scratched.mp4"
    truth = write_conveyor(clip, seconds=10, fps=10, parcels=3, seed=6, damaged_barcodes=1)
    plain = write_conveyor(tmp_path / "plain.mp4", seconds=10, fps=10, parcels=3, seed=6)
    # The same scene otherwise: sizes, places, manifest.
    assert [p.boxes for p in truth.parcels] == [p.boxes for p in plain.parcels]
    assert truth.manifest == plain.manifest
    (scratched,) = [p for p in truth.parcels if p.barcode_damaged]
    assert not scratched.label_damaged and not scratched.label_readable
    assert scratched.text_readable
    assert [p.text_readable for p in truth.parcels].count(False) == 1  # the smudged label
    shown = {i for i in scratched.label_boxes if scratched.label_fully_visible(i)}
    checked = [i for i, image in frames(clip, every=4) if i in shown]
    assert len(checked) >= 3
    for index, image in frames(clip, every=4):
        if index in shown:
            assert _read_label(image, scratched, index) == []
