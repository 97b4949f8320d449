"""The file blob store: round trips, and no way out of its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from sightwire.storage.blobs import (
    BlobKeyError,
    BlobNotFoundError,
    FileBlobStore,
    open_blob_store,
    put_if_absent,
)


@pytest.fixture
def blobs(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")


def test_put_get_exists_delete(blobs: FileBlobStore) -> None:
    key = "snapshots/belt-1/2026/11/27/01JD.jpg"
    assert not blobs.exists(key)
    blobs.put(key, b"\xff\xd8jpeg")
    assert blobs.exists(key)
    assert blobs.get(key) == b"\xff\xd8jpeg"
    blobs.put(key, b"replaced")
    assert blobs.get(key) == b"replaced"
    assert [p.name for p in (blobs.folder / "snapshots/belt-1/2026/11/27").iterdir()] == [
        "01JD.jpg"
    ]  # no temp files left behind
    blobs.delete(key)
    blobs.delete(key)  # deleting what is gone is fine
    assert not blobs.exists(key)
    with pytest.raises(BlobNotFoundError):
        blobs.get(key)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("../outside.jpg", "'..' is not allowed"),
        ("snapshots/../../outside.jpg", "'..' is not allowed"),
        ("/etc/passwd", "absolute paths are not allowed"),
        ("C:/Windows/win.ini", "absolute paths are not allowed"),
        ("snapshots\\..\\outside.jpg", "not allowed"),
        ("snapshots//x.jpg", "empty or '.' parts"),
        ("./x.jpg", "empty or '.' parts"),
        ("", "empty"),
        ("a\x00b", "control characters"),
    ],
)
def test_keys_that_could_leave_the_store_are_refused(
    blobs: FileBlobStore, tmp_path: Path, key: str, message: str
) -> None:
    for operation in (
        lambda: blobs.put(key, b"x"),
        lambda: blobs.get(key),
        lambda: blobs.exists(key),
        lambda: blobs.delete(key),
    ):
        with pytest.raises(BlobKeyError, match=message):
            operation()
    assert not (tmp_path / "outside.jpg").exists()


def test_a_symlink_pointing_out_is_refused(blobs: FileBlobStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (blobs.folder / "escape").symlink_to(outside)
    with pytest.raises(BlobKeyError, match="leads outside the blob store"):
        blobs.get("escape/secret.txt")
    with pytest.raises(BlobKeyError, match="leads outside the blob store"):
        blobs.put("escape/new.txt", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    (blobs.folder / "link.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(BlobKeyError, match="leads outside the blob store"):
        blobs.delete("link.txt")
    assert (outside / "secret.txt").exists()


def test_a_symlink_inside_the_store_is_followed(blobs: FileBlobStore) -> None:
    blobs.put("real/a.jpg", b"a")
    (blobs.folder / "alias").symlink_to(blobs.folder / "real")
    assert blobs.get("alias/a.jpg") == b"a"


def test_blob_urls(tmp_path: Path) -> None:
    store = open_blob_store(f"file://{tmp_path / 'b'}")
    store.put("k", b"v")
    assert (tmp_path / "b" / "k").read_bytes() == b"v"
    assert type(open_blob_store("s3://bucket/prefix?region=eu-west-1")).__name__ == "S3BlobStore"
    with pytest.raises(ValueError, match="starts with file://"):
        open_blob_store("ftp://x")


def test_create_writes_a_new_blob_and_keeps_an_existing_one(blobs: FileBlobStore) -> None:
    assert blobs.create("snapshots/cam/1.jpg", b"first") is True
    assert blobs.create("snapshots/cam/1.jpg", b"second") is False  # a retry keeps the first
    assert blobs.get("snapshots/cam/1.jpg") == b"first"
    assert put_if_absent(blobs, "snapshots/cam/2.jpg", b"x") is True
    assert not list((blobs.folder / "snapshots/cam").glob(".put-*"))  # no temp files


def test_create_makes_a_pruned_folder_again(blobs: FileBlobStore) -> None:
    blobs.create("snapshots/cam/2026/1.jpg", b"a")
    blobs.delete("snapshots/cam/2026/1.jpg")
    (blobs.folder / "snapshots/cam/2026").rmdir()  # retention removed the day's folder
    assert blobs.create("snapshots/cam/2026/2.jpg", b"b") is True
    assert blobs.get("snapshots/cam/2026/2.jpg") == b"b"


def test_create_refuses_a_symlink_out(blobs: FileBlobStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (blobs.folder / "snapshots").symlink_to(outside)
    with pytest.raises(BlobKeyError):
        blobs.create("snapshots/x.jpg", b"x")
    assert not list(outside.iterdir())
    (blobs.folder / "link.jpg").symlink_to(outside / "target.jpg")
    with pytest.raises(BlobKeyError):  # nor is a file written through a symlink
        blobs.create("link.jpg", b"x")
    assert not (outside / "target.jpg").exists()
