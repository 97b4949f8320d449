"""Every synthetic clip is the H.264 MP4 its ground truth describes, and round-trips."""

from __future__ import annotations

import hashlib
from fractions import Fraction
from pathlib import Path

import av
import pytest

from sightwire.synth import GroundTruth, write_conveyor, write_static

from .scenes import Clip, frames


@pytest.fixture(params=["conveyor", "static", "lighting"])
def any_clip(request: pytest.FixtureRequest) -> Clip:
    clip: Clip = request.getfixturevalue(request.param)
    return clip


def test_clip_has_the_frames_size_and_rate_of_its_truth(any_clip: Clip) -> None:
    scene = any_clip.truth.scene
    with av.open(str(any_clip.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.width, stream.height) == (scene.width, scene.height)
        assert stream.average_rate == Fraction(scene.fps).limit_denominator(1001)
        flags = [frame.key_frame for frame in container.decode(video=0)]
    count = len(flags)
    keyframes = [index for index, key in enumerate(flags) if key]
    assert keyframes[0] == 0
    assert count == scene.frames == len(any_clip.truth.activity)
    assert max(b - a for a, b in zip(keyframes, [*keyframes[1:], count], strict=True)) <= (
        scene.gop_frames
    )


def test_ground_truth_json_round_trips(any_clip: Clip) -> None:
    json_path = GroundTruth.path_for(any_clip.path)
    assert json_path.suffix == ".json" and json_path.exists()
    loaded = GroundTruth.load(json_path)
    assert loaded == any_clip.truth
    assert GroundTruth.load(any_clip.path) == loaded  # the video's path finds its JSON
    assert GroundTruth.model_validate_json(loaded.model_dump_json()) == loaded
    for thing in [*loaded.parcels, *loaded.objects]:
        assert all(isinstance(frame, int) for frame in thing.boxes)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    for _, image in frames(path):
        digest.update(image.tobytes())
    return digest.hexdigest()


def test_same_seed_gives_the_same_conveyor_clip(tmp_path: Path) -> None:
    options = {"seconds": 4.0, "parcels": 1, "size": (640, 480), "mm_per_pixel": 2.0}
    first = write_conveyor(tmp_path / "a.mp4", seed=5, **options)
    again = write_conveyor(tmp_path / "b.mp4", seed=5, **options)
    other = write_conveyor(tmp_path / "c.mp4", seed=6, **options)
    assert first == again
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    assert _digest(tmp_path / "a.mp4") == _digest(tmp_path / "b.mp4")
    assert other.parcels[0].tracking_number != first.parcels[0].tracking_number
    assert _digest(tmp_path / "c.mp4") != _digest(tmp_path / "a.mp4")


def test_same_seed_gives_the_same_static_clip(tmp_path: Path) -> None:
    options = {"seconds": 6.0, "fps": 5.0, "size": (320, 180), "events": 1}
    first = write_static(tmp_path / "a.mp4", seed=5, **options)
    again = write_static(tmp_path / "b.mp4", seed=5, **options)
    other = write_static(tmp_path / "c.mp4", seed=6, **options)
    assert first == again
    assert _digest(tmp_path / "a.mp4") == _digest(tmp_path / "b.mp4")
    assert other != first


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"parcels": 12, "seconds": 8.0}, "cannot all cross"),
        ({"size": (321, 240)}, "even"),
        ({"motion_blur": 1.5}, "motion_blur"),
        ({"size": (320, 240), "parcels": 1}, "larger size"),
        ({"damaged_labels": 3, "parcels": 2}, "damaged_labels"),
        ({"mismatch_share": 2.0}, "mismatch_share"),
    ],
)
def test_conveyor_refuses_impossible_options(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        write_conveyor(tmp_path / "bad.mp4", **options)  # type: ignore[arg-type]
    assert not (tmp_path / "bad.json").exists()


def test_static_refuses_more_events_than_fit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fewer events"):
        write_static(tmp_path / "bad.mp4", seconds=5.0, events=4, size=(320, 180))
