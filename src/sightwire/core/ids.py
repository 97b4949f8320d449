"""Sortable unique ids (ULID) for events and deliveries."""

from __future__ import annotations

import os
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(now: float | None = None) -> str:
    """A 26-character ULID: 48 bits of milliseconds, then 80 random bits.

    Ids made later sort later (to the millisecond), which keeps event tables and
    cursors in time order without a second index.

    >>> len(new_id())
    26
    """
    millis = int((time.time() if now is None else now) * 1000)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 0x1F])
        value >>= 5
    return "".join(reversed(chars))
