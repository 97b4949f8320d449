"""Blob stores: snapshots and other files, by key (``snapshots/belt-1/2026/11/27/ID.jpg``).

A key is a relative, ``/``-separated path. Keys that could reach outside the store
(``..``, an absolute path, a backslash, a symlink pointing out) are refused with
:class:`BlobKeyError`; the store never touches such a path.

>>> import tempfile
>>> blobs = FileBlobStore(tempfile.mkdtemp())
>>> blobs.put("snapshots/belt-1/a.jpg", b"...")
>>> blobs.get("snapshots/belt-1/a.jpg")
b'...'
>>> blobs.put("../etc/passwd", b"")
Traceback (most recent call last):
...
sightwire.storage.blobs.BlobKeyError: blob key '../etc/passwd': '..' is not allowed in a key
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

MAX_KEY_LENGTH = 512
_MAX_FOLDERS = 10_000
# A new file only; never through a symlink (a folder's were checked when it was made)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_PART = re.compile(r"^[^\x00-\x1f\\:*?\"<>|]+$")


class BlobKeyError(ValueError):
    """A key that is not a safe relative path inside the store."""


class BlobNotFoundError(KeyError):
    """No blob under that key."""


class BlobStore(Protocol):
    """Bytes by key; the event store keeps snapshots here."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; BlobNotFoundError when there are none."""
        ...

    def exists(self, key: str) -> bool:
        """Whether a blob is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the blob under ``key``; no error when it is absent."""
        ...


def check_key(key: str) -> list[str]:
    """The parts of a valid key; BlobKeyError says what is wrong with an invalid one."""
    if not key:
        raise BlobKeyError("blob key is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise BlobKeyError(f"blob key is longer than {MAX_KEY_LENGTH} characters")
    if key.startswith("/") or re.match(r"^[A-Za-z]:", key):
        raise BlobKeyError(f"blob key {key!r}: absolute paths are not allowed")
    parts = key.split("/")
    for part in parts:
        if part in ("", "."):
            raise BlobKeyError(f"blob key {key!r}: empty or '.' parts are not allowed")
        if part == "..":
            raise BlobKeyError(f"blob key {key!r}: '..' is not allowed in a key")
        if not _PART.match(part):
            raise BlobKeyError(
                f'blob key {key!r}: control characters and \\:*?"<>| are not allowed'
            )
    return parts


class FileBlobStore:
    """Blobs as files under one folder. :meth:`put` is atomic (temp file, then
    rename); :meth:`create` writes a new file in place, for snapshots.

    >>> # FileBlobStore("data/blobs").put("snapshots/x.jpg", jpeg_bytes)
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._root = self.folder.resolve()
        self._folders: set[Path] = set()  # made and checked by create(): no mkdir, no resolve

    def path_of(self, key: str) -> Path:
        """Where ``key`` lives on disk; BlobKeyError if that is outside the folder."""
        path = self._root.joinpath(*check_key(key))
        resolved = path.resolve()
        if not resolved.is_relative_to(self._root):
            raise BlobKeyError(f"blob key {key!r} leads outside the blob store (a symlink?)")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self.path_of(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            Path(temp).replace(path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def create(self, key: str, data: bytes) -> bool:
        """Store ``data`` under ``key`` unless something is stored there already
        (then False, and the old blob stays). For snapshots, on the hot path.

        Creating a file costs 0.2-0.7 ms of kernel time on these disks, most of it
        the inode; :meth:`put` adds a temp name, a rename, a mkdir and a resolve of
        every folder on the way. Here: one exclusive ``open``, ``write``, ``close``;
        folders are made and checked once per process. No temp file is needed for
        readers: nobody learns a snapshot's key before the event naming it commits,
        which is after this returns. No fsync either (see :mod:`sightwire.events.store`
        for what that means after a power loss).
        """
        parts = check_key(key)
        folder = self._root.joinpath(*parts[:-1])
        if folder not in self._folders:
            self.path_of(key)  # refuses a symlink out of the store
            folder.mkdir(parents=True, exist_ok=True)
            if len(self._folders) > _MAX_FOLDERS:  # one a camera a day: rarely
                self._folders.clear()
            self._folders.add(folder)
        path = folder / parts[-1]
        try:
            handle = os.open(path, _CREATE, 0o644)
        except FileExistsError:
            return False
        except FileNotFoundError:  # the folder was pruned meanwhile: make it again
            self._folders.discard(folder)
            return self.create(key, data)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return True

    def get(self, key: str) -> bytes:
        path = self.path_of(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise BlobNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        return self.path_of(key).is_file()

    def delete(self, key: str) -> None:
        self.path_of(key).unlink(missing_ok=True)


def put_if_absent(blobs: BlobStore, key: str, data: bytes) -> bool:
    """Store ``data`` under ``key`` unless a blob is there; True when this call wrote it."""
    if isinstance(blobs, FileBlobStore):
        return blobs.create(key, data)
    if blobs.exists(key):
        return False
    blobs.put(key, data)
    return True


def open_blob_store(url: str) -> BlobStore:
    """The blob store named by ``StoreConfig.blobs``: ``file://FOLDER`` or
    ``s3://BUCKET/PREFIX?endpoint_url=...&region=...`` (see ``storage/s3.py``).

    >>> # open_blob_store("file://data/blobs")
    """
    if url.startswith("file://"):
        return FileBlobStore(url.removeprefix("file://"))
    if url.startswith("s3://"):
        try:
            from sightwire.storage.s3 import S3BlobStore  # boto3 only for configs that use it
        except ModuleNotFoundError as exc:
            raise ValueError(f"{url}: S3 blob stores need boto3: pip install boto3") from exc
        return S3BlobStore.from_url(url)
    raise ValueError(f"{url}: a blob store URL starts with file:// or s3://")
