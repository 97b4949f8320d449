"""Ingest's disk buffer: frame packets wait here, in order, while the bus is away.

One SQLite file (WAL) with an auto-increment id, so packets come out in the order
they went in, across cameras and across a restart of the process. The buffer is
bounded by ``max_bytes``: when a new packet would pass it, the oldest packets are
dropped — counted and logged — so the newest video survives a long outage.

>>> import tempfile
>>> buffer = FrameBuffer(tempfile.mkdtemp(), max_bytes=10)
>>> buffer.push("belt-1", b"12345"); buffer.push("belt-1", b"67890"); buffer.push("belt-2", b"x")
>>> buffer.dropped, [p.payload for p in buffer.oldest(10)]
(1, [b'67890', b'x'])
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger("sightwire.ingest")
FILE_NAME = "frames.sqlite3"


class Buffered(NamedTuple):
    id: int
    key: str
    payload: bytes


class FrameBuffer:
    """An on-disk FIFO of (key, payload), at most ``max_bytes`` of payload."""

    def __init__(self, folder: str | Path, max_bytes: int) -> None:
        path = Path(folder)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(f"ingest buffer folder {path}: {exc} (set bus.buffer.path)") from exc
        self.max_bytes = max_bytes
        self.dropped = 0
        self._db = sqlite3.connect(path / FILE_NAME, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash keeps committed rows
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS packets"
            " (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, payload BLOB NOT NULL)"
        )
        row = self._db.execute("SELECT count(*), coalesce(sum(length(payload)), 0) FROM packets")
        self.count, self.bytes = (int(v) for v in row.fetchone())

    def __len__(self) -> int:
        return self.count

    def push(self, key: str, payload: bytes) -> None:
        """Append a packet; drop the oldest ones first if it would pass the cap."""
        while self.count and self.bytes + len(payload) > self.max_bytes:
            self._drop_oldest()
        self._db.execute("INSERT INTO packets (key, payload) VALUES (?, ?)", (key, payload))
        self.count += 1
        self.bytes += len(payload)

    def oldest(self, limit: int) -> list[Buffered]:
        """Up to ``limit`` packets, oldest first (they stay until :meth:`remove`)."""
        rows = self._db.execute(
            "SELECT id, key, payload FROM packets ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        return [Buffered(int(i), str(k), bytes(p)) for i, k, p in rows]

    def remove(self, packet: Buffered) -> None:
        """Forget a packet once the bus has it."""
        cursor = self._db.execute("DELETE FROM packets WHERE id = ?", (packet.id,))
        if cursor.rowcount:
            self.count -= 1
            self.bytes -= len(packet.payload)

    def close(self) -> None:
        self._db.close()

    def _drop_oldest(self) -> None:
        [oldest] = self.oldest(1)
        self.remove(oldest)
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 100 == 0:
            log.warning(
                "ingest buffer full (%d bytes): dropped %d oldest frames so far",
                self.max_bytes,
                self.dropped,
                extra={"camera": oldest.key},
            )
