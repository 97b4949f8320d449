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

Snapshots go through :meth:`BlobStore.put_snapshot`: the file store appends them to a
pack file per camera and hour and answers a range key (``.../14.pack:OFFSET+LENGTH``,
see :mod:`sightwire.storage.packs`); ``get`` reads such a key like any other.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sightwire.storage import packs as packs_module

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

    def put_snapshot(self, key: str, data: bytes, when: float) -> str | None:
        """Store a snapshot taken at ``when`` (epoch seconds) that ``key`` names when
        it gets a blob of its own; returns the key that names the stored bytes, or None
        when a blob is stored under ``key`` already (a retry's: it stays)."""
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
    last = packs_module.RANGE.match(parts[-1])  # a range of a pack: only there may ':' be
    for part in [*parts[:-1], last["pack"] if last else parts[-1]]:
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
    rename); :meth:`create` writes a new file in place; :meth:`put_snapshot` appends
    to a pack (``packs=False``: a file a snapshot, as :meth:`create`).

    >>> # FileBlobStore("data/blobs").put("snapshots/x.jpg", jpeg_bytes)
    """

    def __init__(
        self,
        folder: str | Path,
        *,
        packs: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.packs = packs
        self.clock = clock
        self._root = self.folder.resolve()
        self._folders: set[Path] = set()  # made and checked by create(): no mkdir, no resolve
        self._writer = packs_module.PackWriter()

    def path_of(self, key: str) -> Path:
        """Where ``key`` lives on disk (a range key: its pack); BlobKeyError if that is
        outside the folder."""
        parts = check_key(key)
        if (found := packs_module.split_range(key)) is not None:
            parts = found[0].split("/")
        path = self._root.joinpath(*parts)
        resolved = path.resolve()
        if not resolved.is_relative_to(self._root):
            raise BlobKeyError(f"blob key {key!r} leads outside the blob store (a symlink?)")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self.path_of(_whole(key))
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
        path = self._made_folder(_whole(key))
        try:
            handle = os.open(path, _CREATE, 0o644)
        except FileExistsError:
            return False
        except FileNotFoundError:  # the folder was pruned meanwhile: make it again
            self._folders.discard(path.parent)
            return self.create(key, data)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return True

    def put_snapshot(self, key: str, data: bytes, when: float) -> str | None:
        """Append ``data`` to the pack beside ``key`` for the hour of ``when``
        (:func:`~sightwire.storage.packs.pack_for`); returns its range key. A snapshot
        more than ``packs.LATE_S`` from this store's clock (an event recorded late), or
        whose key is not in a folder of its day, gets a file of its own under ``key``
        instead (:meth:`create`; None when one is there): retention deletes the packs
        of hours gone by, and nothing may append to those."""
        pack = packs_module.pack_for(key, when) if self.packs else None
        if pack is None or abs(self.clock() - when) > packs_module.LATE_S:
            return key if self.create(key, data) else None
        path = self._made_folder(pack)
        try:
            offset = self._writer.append(path, data)
        except FileNotFoundError:  # the folder was pruned meanwhile: make it again
            self._folders.discard(path.parent)
            offset = self._writer.append(self._made_folder(pack), data)
        return packs_module.range_key(pack, offset, len(data))

    def pack_keys(self) -> list[str]:
        """Keys of every snapshot pack in the store (for retention's sweep)."""
        snapshots = self._root / "snapshots"
        if not snapshots.is_dir():
            return []
        return sorted(p.relative_to(self._root).as_posix() for p in snapshots.rglob("*.pack"))

    def close(self) -> None:
        """Close the open packs (appending opens them again)."""
        self._writer.close()

    def get(self, key: str) -> bytes:
        path = self.path_of(key)
        if (found := packs_module.split_range(key)) is not None:
            data = packs_module.read_range(path, found[1], found[2])
            if data is None:
                raise BlobNotFoundError(key)
            return data
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise BlobNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        path = self.path_of(key)
        if (found := packs_module.split_range(key)) is not None:
            return packs_module.range_exists(path, found[1], found[2])
        return path.is_file()

    def delete(self, key: str) -> None:
        """Remove the blob under ``key``. A range of a pack stays (garbage that no key
        names once its event is gone): its pack goes when no event names any range in
        it (:mod:`sightwire.events.retention`)."""
        path = self.path_of(key)
        if packs_module.split_range(key) is None:
            path.unlink(missing_ok=True)

    def _made_folder(self, key: str) -> Path:
        """The path of ``key``, its folder made and checked once per process."""
        parts = check_key(key)
        folder = self._root.joinpath(*parts[:-1])
        if folder not in self._folders:
            self.path_of(key)  # refuses a symlink out of the store
            folder.mkdir(parents=True, exist_ok=True)
            if len(self._folders) > _MAX_FOLDERS:  # one a camera a day: rarely
                self._folders.clear()
            self._folders.add(folder)
        return folder / parts[-1]


def _whole(key: str) -> str:
    """``key``, unless it names a range of a pack: those are written by appending."""
    if packs_module.split_range(key) is not None:
        raise BlobKeyError(f"blob key {key!r}: a range of a pack is written by put_snapshot")
    return key


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
