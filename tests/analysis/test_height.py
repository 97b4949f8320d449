"""Heights from a depth stream: reading depth files, pairing them with colour frames by
time, the belt model and the measure step's height columns."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from sightwire.analysis.height import BeltModel, depth_box, dim_weight_kg, height_in_box
from sightwire.analysis.measure import Heights, MeasureAnalyser
from sightwire.config.models import DepthConfig, MeasureOptions
from sightwire.core import Detections, Frame
from sightwire.sources.base import SourceError
from sightwire.sources.depth import DepthFolder, DepthStream, DepthVideo, open_depth
from sightwire.synth.depth import DepthWriter

COLOUR = (640, 360)


def _depth(fill: int = 2000) -> np.ndarray:
    return np.full((90, 160), fill, np.uint16)  # a quarter of the colour picture


def _with_parcel(height: int, box: tuple[int, int, int, int], belt: int = 2000) -> np.ndarray:
    """Depth picture with a parcel of ``height`` under colour ``box``."""
    picture = _depth(belt)
    x1, y1, x2, y2 = (v // 4 for v in box)
    picture[y1:y2, x1:x2] = belt - height
    return picture


def test_dimensional_weight_is_cubic_centimetres_over_5000() -> None:
    assert dim_weight_kg(600, 400, 300) == pytest.approx(60 * 40 * 30 / 5000)


def test_a_box_maps_to_depth_pixels_shrunk() -> None:
    assert depth_box((100, 40, 300, 200), COLOUR, (90, 160), 0.0) == (25, 10, 75, 50)
    assert depth_box((100, 40, 300, 200), COLOUR, (90, 160), 0.2) == (35, 18, 65, 42)
    assert depth_box((0, 0, 4, 4), COLOUR, (90, 160), 0.2) is None


def test_height_is_robust_to_edges_holes_and_noise() -> None:
    rng = np.random.default_rng(0)
    box = (120, 80, 440, 240)
    picture = _with_parcel(310, box).astype(np.float64) + rng.normal(0, 3, (90, 160))
    picture[rng.random(picture.shape) < 0.1] = 0  # 10 % holes
    depth = np.clip(picture, 0, 65535).astype(np.uint16)
    # The detector's box 8 % too big: the shrunk box still lies on the parcel's top.
    rough = (100, 68, 460, 252)
    assert height_in_box(depth, BeltModel(2000), rough, COLOUR) == pytest.approx(310, abs=2)
    # Too few readings: no height rather than a wrong one.
    depth[:] = 0
    assert height_in_box(depth, BeltModel(2000), box, COLOUR) is None


def test_the_belt_is_learned_around_parcels_even_one_not_yet_detected() -> None:
    belt = BeltModel(learn_frames=9)
    box = (120, 80, 440, 240)
    for frame in range(12):
        picture = _with_parcel(300, box)
        # For three frames a second parcel the detector has not found sits at the left.
        boxes = [box]
        if frame < 3:
            picture[:, :20] = 1600
        belt.learn(picture, boxes, COLOUR)
    region = (0, 0, 160, 90)
    learned = belt.distance(region, (90, 160))
    assert np.nanmax(np.abs(learned - 2000)) == 0  # the median outvotes the stray parcel
    assert np.isnan(learned[25:55, 35:105]).all()  # never seen without the parcel
    # Once the parcel moves on, the belt under it is learned too, and its height read.
    moved = (300, 80, 620, 240)
    for _ in range(9):
        belt.learn(_with_parcel(250, moved), [moved], COLOUR)
    assert height_in_box(_with_parcel(250, moved), belt, moved, COLOUR) == pytest.approx(250)
    assert height_in_box(_with_parcel(300, box), belt, box, COLOUR) == pytest.approx(300)


def test_depth_video_round_trips_16_bit(tmp_path: Path) -> None:
    path = tmp_path / "d.mkv"
    pictures = [
        np.random.default_rng(i).integers(0, 65535, (90, 160)).astype(np.uint16) for i in range(3)
    ]
    with DepthWriter(path, fps=10, size=(160, 90)) as writer:
        for picture in pictures:
            writer.write(picture)
    read = list(DepthVideo(path).frames())
    assert [t for t, _ in read] == pytest.approx([0.0, 0.1, 0.2])
    for (_, got), want in zip(read, pictures, strict=True):
        assert np.array_equal(got, want)  # lossless


def test_pairing_takes_the_nearest_picture_within_the_skew(tmp_path: Path) -> None:
    for i in range(10):  # 10 fps: 0.0, 0.1, ... 0.9 s
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), _depth(1000 + i))
    stream = DepthStream(DepthFolder(tmp_path, fps=10), max_skew_s=0.03)
    got = [stream.at(t) for t in (0.0, 0.21, 0.4, 0.45, 0.62, 0.9, 1.5)]
    values = [None if g is None else int(g[0, 0]) for g in got]
    assert values == [1000, 1002, 1004, None, 1006, 1009, None]
    assert (stream.paired, stream.unpaired) == (5, 2)
    assert int(stream.at(0.1)[0, 0]) == 1001  # type: ignore[index]  # a looped file: again


def test_bad_depth_sources_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        open_depth(str(tmp_path / "missing.mkv"))
    with pytest.raises(ValueError, match="fps"):
        open_depth(str(tmp_path))
    cv2.imwrite(str(tmp_path / "0.png"), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(SourceError, match="16-bit"):
        list(DepthFolder(tmp_path, fps=5).frames())


def test_the_measure_step_adds_height_and_dimensional_weight(tmp_path: Path) -> None:
    box = (100, 100, 500, 300)  # 400 x 200 px at 1.5 mm: 600 x 300 mm
    for i in range(5):
        cv2.imwrite(str(tmp_path / f"{i:03d}.png"), _with_parcel(250, box))
    heights = Heights.open(DepthConfig(source=str(tmp_path), fps=5, belt_mm=2000))
    step = MeasureAnalyser(MeasureOptions(within="parcel", mm_per_pixel=1.5), heights=heights)
    parcel = Detections(
        np.array([box], np.float32),
        np.array([0.9], np.float32),
        np.array([0]),
        tracker_id=np.array([4]),
        data={"class_name": np.array(["parcel"])},
    )
    image = np.zeros((COLOUR[1], COLOUR[0], 3), np.uint8)
    for i in range(3):
        out = step.analyse(Frame("belt-1", i, 0.0, i / 5, image), parcel)
    assert out.data["height_mm"].tolist() == [250.0]
    assert out.data["height_samples"].tolist() == [3]
    assert out.data["dim_weight_kg"].tolist() == pytest.approx([60 * 30 * 25 / 5000])
    # Without a depth stream, no height columns at all (rules see no height_mm).
    plain = MeasureAnalyser(MeasureOptions(within="parcel", mm_per_pixel=1.5))
    assert "height_mm" not in plain.analyse(Frame("belt-1", 0, 0.0, 0.0, image), parcel).data
