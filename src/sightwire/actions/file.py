"""File: append each event to a JSON-lines file, one CloudEvent per line.

Config::

    actions:
      audit_log:
        type: file
        path: data/events.jsonl
        fsync: true          # on disk before the delivery counts as done
        rotate_mb: 100       # optional: events.jsonl -> events.jsonl.1 -> .2 ...
        keep: 5

Each line is written with one ``write`` on a file opened for appending, so lines from
several writers do not interleave. The folder is created when missing. A full disk or
an I/O error is retryable; a path that cannot be written (no permission, a folder) is not.
"""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path

from sightwire.actions.base import ActionResult
from sightwire.actions.envelope import cloudevent_json
from sightwire.config.actions import FileConfig
from sightwire.core import Event

_PERMANENT = frozenset({errno.EACCES, errno.EPERM, errno.EISDIR, errno.EROFS, errno.ENOTDIR})


class FileAction:
    """Appends events to one file, rotating it by size if configured."""

    def __init__(self, name: str, config: FileConfig) -> None:
        self.name = name
        self.config = config
        self.path = Path(config.path)
        self._rotate_bytes = int(config.rotate_mb * 1024 * 1024) if config.rotate_mb else None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"FileAction({self.name!r}, {str(self.path)!r})"

    def accepts(self, event: Event) -> bool:
        return True

    async def send(self, event: Event) -> ActionResult:
        line = cloudevent_json(event) + b"\n"
        try:
            async with self._lock:
                await asyncio.to_thread(self.append, line)
        except OSError as exc:
            retryable = exc.errno not in _PERMANENT
            return ActionResult(ok=False, retryable=retryable, detail=f"{self.path}: {exc}")
        return ActionResult(ok=True, detail=f"appended to {self.path}")

    async def close(self) -> None:
        return None

    def append(self, line: bytes) -> None:
        """Write ``line`` at the end of the file (rotating first if it would overflow)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self._rotate_bytes is not None:
            self._rotate_if_full(self._rotate_bytes, len(line))
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            if self.config.fsync:
                os.fsync(fd)
        finally:
            os.close(fd)

    def _rotate_if_full(self, limit: int, incoming: int) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == 0 or size + incoming <= limit:
            return
        for index in range(self.config.keep - 1, 0, -1):
            older = self.path.with_name(f"{self.path.name}.{index}")
            if older.exists():
                older.replace(self.path.with_name(f"{self.path.name}.{index + 1}"))
        self.path.replace(self.path.with_name(f"{self.path.name}.1"))
