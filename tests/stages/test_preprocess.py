"""ROI, resize, denoise and the stage list built from a camera's config."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sightwire.config.models import CameraConfig
from sightwire.core.frame import Frame
from sightwire.stages import (
    TO_SOURCE,
    Crop,
    Denoise,
    PolygonMask,
    Resize,
    boxes_to_source,
    build_stages,
    crop,
    run_stages,
)
from sightwire.stages.denoise import denoise
from sightwire.stages.resize import resize, target_size

Image = npt.NDArray[np.uint8]


def picture(width: int = 1280, height: int = 720) -> Image:
    """Every pixel different: blue = x % 256, green = y % 256, red = (x // 256) * 40."""
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([xs % 256, ys % 256, (xs // 256) * 40], axis=2).astype(np.uint8)


def frame_of(image: Image) -> Frame:
    return Frame(camera="cam", seq=1, captured_at=10.0, pts=0.5, image=image)


TRIANGLE = [(100.0, 100.0), (900.0, 150.0), (400.0, 600.0)]


def test_polygon_mask_zeroes_outside_and_keeps_inside() -> None:
    image = picture()
    before = image.copy()
    out = PolygonMask(TRIANGLE).apply(image)
    assert out.shape == image.shape
    contour = np.array(TRIANGLE, np.float32)
    rng = np.random.default_rng(0)
    for x, y in zip(rng.integers(0, 1280, 400), rng.integers(0, 720, 400), strict=True):
        distance = cv2.pointPolygonTest(contour, (float(x), float(y)), True)
        if distance > 1:
            assert (out[y, x] == image[y, x]).all()
        elif distance < -1:
            assert (out[y, x] == 0).all()
    assert (image == before).all(), "the input is untouched"


def test_polygon_mask_is_drawn_once_per_frame_size() -> None:
    stage = PolygonMask(TRIANGLE)
    first = stage.mask(720, 1280)
    assert stage.mask(720, 1280) is first
    other = stage.mask(360, 640)
    assert other is not first and other.shape == (360, 640)
    result = stage(frame_of(picture()))
    assert result.metadata.get(TO_SOURCE) is None, "a mask moves no pixel"


def test_polygon_needs_three_points() -> None:
    with pytest.raises(ValueError, match="3 points"):
        PolygonMask([(0.0, 0.0), (1.0, 1.0)])


def test_crop_returns_the_region_and_its_offset() -> None:
    image = picture()
    part, offset = crop(image, (300, 200, 700, 500))
    assert part.shape == (300, 400, 3) and offset == (300, 200)
    assert (part[0, 0] == image[200, 300]).all() and (part[-1, -1] == image[499, 699]).all()
    assert np.shares_memory(part, image), "a crop is a view, not a copy"


def test_crop_is_clipped_to_the_picture_and_refuses_nothing() -> None:
    part, offset = crop(picture(), (-50, -20, 100, 60))
    assert part.shape == (60, 100, 3) and offset == (0, 0)
    with pytest.raises(ValueError, match="leaves nothing"):
        crop(picture(), (2000, 0, 2100, 100))


def test_crop_stage_records_how_to_map_boxes_back() -> None:
    result = Crop((300, 200, 700, 500))(frame_of(picture()))
    assert (result.width, result.height) == (400, 300)
    found = np.array([[10, 20, 110, 70]], np.float32)
    assert boxes_to_source(found, result).tolist() == [[310, 220, 410, 270]]
    assert (result.seq, result.captured_at, result.pts) == (1, 10.0, 0.5)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (640, None, (640, 360)),
        (None, 180, (320, 180)),
        (500, 500, (500, 500)),
        (None, None, (1280, 720)),
        (2560, None, (2560, 1440)),
    ],
)
def test_target_size_keeps_aspect_when_one_side_is_given(
    width: int | None, height: int | None, expected: tuple[int, int]
) -> None:
    assert target_size((1280, 720), width=width, height=height) == expected


def test_resize_shrinks_by_area_averaging_and_enlarges_smoothly() -> None:
    stripes = np.zeros((720, 1280, 3), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: area averaging makes them flat grey
    small = resize(stripes, width=640)
    assert small.shape == (360, 640, 3)
    assert np.abs(small.astype(int) - 128).max() <= 1
    same = picture()
    assert resize(same, width=1280) is same
    assert resize(same, height=1440).shape == (1440, 2560, 3)


def test_resize_stage_records_its_scale() -> None:
    result = Resize(width=640)(frame_of(picture()))
    assert (result.width, result.height) == (640, 360)
    assert boxes_to_source([[10, 10, 20, 20]], result).tolist() == [[20, 20, 40, 40]]
    with pytest.raises(ValueError, match="width, a height"):
        Resize()


def test_denoise_filters() -> None:
    rng = np.random.default_rng(0)
    flat = np.full((100, 100, 3), 120, np.uint8)
    grainy = np.clip(flat + rng.normal(0, 8, flat.shape), 0, 255).astype(np.uint8)
    assert denoise(grainy, "gaussian").std() < 0.6 * grainy.std()
    specks = flat.copy()
    specks[rng.integers(0, 100, 50), rng.integers(0, 100, 50)] = 255
    assert (denoise(specks, "median") == 120).all()
    assert Denoise("median")(frame_of(specks)).image.max() == 120
    with pytest.raises(ValueError, match="gaussian"):
        denoise(flat, "bilateral")  # type: ignore[arg-type]


def test_build_stages_follows_the_config_in_order() -> None:
    camera = CameraConfig(
        source="belt.mp4",
        roi={"polygon": TRIANGLE, "crop": (0, 100, 1000, 700)},
        resize={"width": 500},
        denoise="gaussian",
    )
    stages = build_stages(camera)
    assert [type(s).__name__ for s in stages] == ["PolygonMask", "Crop", "Resize", "Denoise"]
    assert build_stages(CameraConfig(source="belt.mp4")) == []
    assert build_stages(CameraConfig(source="x.mp4", resize={})) == []


def test_stages_end_to_end_map_boxes_back_to_the_camera() -> None:
    camera = CameraConfig(
        source="belt.mp4", roi={"crop": (200, 100, 1000, 700)}, resize={"width": 400}
    )
    image = picture()
    image[300:400, 500:600] = (0, 0, 255)
    out = run_stages(build_stages(camera), frame_of(image))
    assert (out.width, out.height) == (400, 300)
    ys, xs = np.nonzero((out.image[:, :, 2] > 200) & (out.image[:, :, 0] < 50))
    found = [[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]]
    assert np.allclose(boxes_to_source(found, out), [[500, 300, 600, 400]], atol=2)


@settings(max_examples=40, deadline=None)
@given(
    x1=st.integers(0, 600),
    y1=st.integers(0, 300),
    w=st.integers(32, 600),
    h=st.integers(32, 400),
    width=st.integers(16, 800),
)
def test_crop_then_resize_maps_points_back(x1: int, y1: int, w: int, h: int, width: int) -> None:
    frame = frame_of(np.zeros((720, 1280, 3), np.uint8))
    out = Resize(width=width)(Crop((x1, y1, x1 + w, y1 + h))(frame))
    corner = boxes_to_source([[0, 0, out.width, out.height]], out)[0]
    expected = [x1, y1, min(x1 + w, 1280), min(y1 + h, 720)]
    assert np.allclose(corner, expected, atol=1e-3)
