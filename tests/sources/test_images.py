"""Image files, watched folders and uploads."""

from __future__ import annotations

import itertools
import logging
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from sightwire.config.models import CameraConfig
from sightwire.core import Frame
from sightwire.sources import (
    CameraReader,
    FolderSource,
    ImageSource,
    SourceError,
    SourceState,
    UploadSource,
)

from .media import jpeg, numbered_image, read_index
from .services import wait_until


def write_old(path: Path, data: bytes) -> None:
    """Write ``data`` and date it a minute back (a file that finished long ago)."""
    path.write_bytes(data)
    past = time.time() - 60
    os.utime(path, (past, past))


def test_single_image_is_one_frame(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    cv2.imwrite(str(path), numbered_image(42))
    frames = list(ImageSource("cam", CameraConfig(source=str(path))).frames())
    assert len(frames) == 1 and read_index(frames[0].image) == 42
    assert frames[0].metadata["path"] == str(path)


def test_looping_image_repeats_at_the_target_rate(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    cv2.imwrite(str(path), numbered_image(9))
    source = ImageSource("cam", CameraConfig(source=str(path), loop=True, fps=20))
    frames = list(itertools.islice(source.frames(), 3))
    assert [f.seq for f in frames] == [0, 1, 2]
    assert [f.pts for f in frames] == pytest.approx([0.0, 0.05, 0.1])
    assert frames[2].captured_at - frames[0].captured_at >= 0.09
    source.close()
    assert list(source.frames()) == []


def test_random_bytes_jpg_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(os.urandom(2_000))
    source = ImageSource("cam-2", CameraConfig(source=str(path)))
    with pytest.raises(SourceError, match=rf"camera 'cam-2': {path} is not a readable image"):
        list(source.frames())


def test_folder_reads_in_name_order_then_picks_up_new_files(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_old(tmp_path / "b.jpg", jpeg(2))
    write_old(tmp_path / "a.jpg", jpeg(1))
    write_old(tmp_path / "notes.txt", b"not an image")
    source = FolderSource("yard", CameraConfig(source=str(tmp_path)), poll_s=0.02, settle_s=0.2)
    reader = CameraReader(source).start()
    try:
        first = [reader.get(timeout=5), reader.get(timeout=5)]
        assert [read_index(f.image) for f in first if f] == [1, 2]
        (tmp_path / "c.jpg").write_bytes(os.urandom(3_000))
        (tmp_path / "d.jpg").write_bytes(jpeg(4))
        frame = reader.get(timeout=5)
        assert frame is not None and read_index(frame.image) == 4
        assert frame.metadata["path"] == str(tmp_path / "d.jpg")
        assert source.errors == 1
        assert any("c.jpg is not a readable image" in r.getMessage() for r in caplog.records)
        assert reader.state is SourceState.STREAMING
    finally:
        assert reader.stop()


def test_folder_waits_for_a_file_being_written(tmp_path: Path) -> None:
    source = FolderSource("yard", CameraConfig(source=str(tmp_path)), poll_s=0.02, settle_s=0.5)
    reader = CameraReader(source).start()
    data = jpeg(7, 640, 480)
    try:
        with (tmp_path / "slow.jpg").open("wb") as out:
            out.write(data[: len(data) // 2])
            out.flush()
            time.sleep(0.2)  # a slow writer: the folder is scanned ~10 times meanwhile
            out.write(data[len(data) // 2 :])
        frame = reader.get(timeout=5)
        assert frame is not None
        expected = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert np.array_equal(frame.image, expected)
        assert source.errors == 0 and reader.get(timeout=0.3) is None
    finally:
        assert reader.stop()


def test_folder_without_watch_ends_after_the_images_present(tmp_path: Path) -> None:
    for index in range(3):
        write_old(tmp_path / f"{index:03}.jpg", jpeg(index))
    source = FolderSource(
        "yard", CameraConfig(source=str(tmp_path)), watch=False, poll_s=0.02, settle_s=0.1
    )
    assert [read_index(f.image) for f in source.frames()] == [0, 1, 2]


def test_upload_source_queues_arrays_and_encoded_images() -> None:
    source = UploadSource("phone")
    source.put(numbered_image(3))
    source.put(jpeg(5), metadata={"user": "ann"})
    with pytest.raises(SourceError, match="camera 'phone': upload is not a readable image"):
        source.put(b"garbage")
    with pytest.raises(SourceError, match="HxWx3 uint8"):
        source.put(np.zeros((4, 4), np.uint8))
    source.close()
    frames: list[Frame] = list(source.frames())
    assert [read_index(f.image) for f in frames] == [3, 5]
    assert [f.seq for f in frames] == [0, 1] and frames[1].metadata == {"user": "ann"}
    with pytest.raises(SourceError, match="closed"):
        source.put(jpeg(1))


def test_upload_reader_delivers_uploads_as_they_arrive() -> None:
    source = UploadSource("phone", capacity=2)
    reader = CameraReader(source).start()
    try:
        for index in range(5):
            source.put(jpeg(index), timeout=5)
        received = [reader.get(timeout=5) for _ in range(5)]
        assert [read_index(f.image) for f in received if f] == list(range(5))
        wait_until(lambda: reader.state is SourceState.STREAMING, what="streaming")
    finally:
        assert reader.stop()


def test_unreadable_folder_entry_is_logged_at_error_level(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write_old(tmp_path / "x.png", b"\x89PNG broken")
    source = FolderSource("yard", CameraConfig(source=str(tmp_path)), watch=False, poll_s=0.02)
    with caplog.at_level(logging.ERROR, logger="sightwire.sources"):
        assert list(source.frames()) == []
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "camera 'yard'" in caplog.records[0].getMessage()
