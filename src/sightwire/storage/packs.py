"""Snapshot pack files: a camera's snapshots of one hour appended to one file.

Creating a file costs 0.2-0.5 ms of kernel time on ext4 (the inode allocator scans
recently freed inodes), more than everything else a two-event frame costs; appending
to an open file costs ~5 µs. So :class:`~sightwire.storage.blobs.FileBlobStore` keeps
each snapshot as a range of ``snapshots/CAMERA/YYYY/MM/DD/HH.pack`` (the UTC hour of
the event's emit time), and the event names the range:

    snapshots/belt-1/2026/11/27/14.pack:1048576+10893     (PACK:OFFSET+LENGTH)

``:`` is refused in every other key (see ``check_key``), so a range key can never be
the name of a real file, and it needs no escaping in a URL path (``#`` would be cut
off as a fragment, ``?`` taken for a query). OFFSET and LENGTH are plain decimals of
at most 15 digits.

Crash semantics: a snapshot is appended with one ``write`` (to the OS, no fsync)
before the transaction naming it commits, so a killed process never leaves an event
naming bytes that are not there. A torn tail (a process killed mid-append) and the
ranges of events that were not recorded are garbage that no key names; they go with
the pack. Several threads or processes may append to one pack: ``O_APPEND`` puts each
write at the end atomically, and the offset is read back from the descriptor under a
lock per pack (threads share the descriptor's position).
"""

from __future__ import annotations

import errno
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

# Appends never follow a symlink (the folders were checked by the blob store)
_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NUMBER = r"(0|[1-9][0-9]{0,14})"
RANGE = re.compile(rf"^(?P<pack>[^:]+\.pack):(?P<offset>{_NUMBER})\+(?P<length>{_NUMBER})$")
_HOUR = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})/(\d{2})\.pack$")
LATE_S = 600.0  # snapshots this far from the store's clock get a file of their own
IDLE_S = 600.0  # an open pack not appended to for this long is closed
MAX_OPEN = 256


def range_key(pack: str, offset: int, length: int) -> str:
    """The key naming ``length`` bytes at ``offset`` of pack ``pack``."""
    return f"{pack}:{offset}+{length}"


def split_range(key: str) -> tuple[str, int, int] | None:
    """``(pack key, offset, length)`` of a range key; None for any other key.

    >>> split_range("snapshots/c/2026/11/27/14.pack:100+20")
    ('snapshots/c/2026/11/27/14.pack', 100, 20)
    >>> split_range("snapshots/c/2026/11/27/01J.jpg") is None
    True
    """
    found = RANGE.match(key)
    if found is None:
        return None
    return found["pack"], int(found["offset"]), int(found["length"])


def pack_for(key: str, when: float) -> str | None:
    """The pack beside ``key`` (``.../YYYY/MM/DD/ID.jpg``) for a snapshot of ``when``:
    ``.../YYYY/MM/DD/HH.pack`` (UTC); None unless ``key``'s folder is the day of
    ``when``, as retention reads the hour back from the pack's path (:func:`pack_hour`).

    >>> pack_for("snapshots/c/2025/11/27/01J.jpg", 1_764_253_800.0)
    'snapshots/c/2025/11/27/14.pack'
    >>> pack_for("snapshots/c/2025/11/28/01J.jpg", 1_764_253_800.0) is None
    True
    """
    stamp = datetime.fromtimestamp(when, UTC)
    folder = key.rpartition("/")[0]
    if not (folder + "/").endswith(f"/{stamp:%Y/%m/%d}/"):
        return None
    return f"{folder}/{stamp:%H}.pack"


def pack_hour(pack: str) -> float | None:
    """The start (epoch seconds) of the hour a ``.../YYYY/MM/DD/HH.pack`` key covers."""
    found = _HOUR.search(pack)
    if found is None:
        return None
    year, month, day, hour = (int(part) for part in found.groups())
    try:
        return datetime(year, month, day, hour, tzinfo=UTC).timestamp()
    except ValueError:
        return None


def read_range(path: Path, offset: int, length: int) -> bytes | None:
    """The bytes of a range, or None when the pack is gone or ends before the range."""
    try:
        handle = os.open(path, _READ)
    except (FileNotFoundError, IsADirectoryError):
        return None
    try:
        if offset + length > os.fstat(handle).st_size:  # before allocating ``length``
            return None
        data = os.pread(handle, length, offset)
    finally:
        os.close(handle)
    return data if len(data) == length else None


def range_exists(path: Path, offset: int, length: int) -> bool:
    """Whether the pack at ``path`` holds the whole range."""
    try:
        return path.is_file() and offset + length <= path.stat().st_size
    except FileNotFoundError:
        return False


class _Pack:
    __slots__ = ("fd", "lock", "used")

    def __init__(self, fd: int, now: float) -> None:
        self.fd = fd
        self.lock = threading.Lock()
        self.used = now


class PackWriter:
    """Open packs by path, appended to from any thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._open: dict[Path, _Pack] = {}
        self._lock = threading.Lock()

    def append(self, path: Path, data: bytes) -> int:
        """Append ``data`` to the pack at ``path`` (its folder must exist); returns the
        offset it starts at. Raises OSError unless every byte was written."""
        while True:
            pack = self._pack(path)
            with pack.lock:
                if pack.fd < 0:  # closed as idle by another thread meanwhile
                    continue
                written = os.write(pack.fd, data)
                end = os.lseek(pack.fd, 0, os.SEEK_CUR)  # ours: after our O_APPEND write
                break
        if written != len(data):  # the disk is full: the part written is garbage
            raise OSError(errno.ENOSPC, f"{path}: {written} of {len(data)} bytes appended")
        return end - written

    def close(self) -> None:
        """Close every open pack (they are opened again when appended to)."""
        with self._lock:
            packs, self._open = list(self._open.values()), {}
        for pack in packs:
            _close(pack)

    def _pack(self, path: Path) -> _Pack:
        now = self._clock()
        with self._lock:
            pack = self._open.get(path)
            if pack is None:
                self._close_idle(now)
                pack = self._open[path] = _Pack(os.open(path, _APPEND, 0o644), now)
            pack.used = now
            return pack

    def _close_idle(self, now: float) -> None:
        """Close packs of hours gone by (nobody appends to them any more), or the
        oldest when too many are open. Called with ``self._lock`` held."""
        idle = [p for p, pack in self._open.items() if now - pack.used > IDLE_S]
        if len(self._open) - len(idle) >= MAX_OPEN:
            idle = sorted(self._open, key=lambda p: self._open[p].used)[: MAX_OPEN // 2]
        for path in idle:
            _close(self._open.pop(path))


def _close(pack: _Pack) -> None:
    with pack.lock:
        if pack.fd >= 0:
            os.close(pack.fd)
            pack.fd = -1
