"""Interrupt a blocking PyAV call (open or read) from another thread, safely.

PyAV's only way to abort a blocking FFmpeg call is its interrupt callback, which
compares ``time.monotonic()`` against the container's open/read timeout. Closing
the container from another thread while FFmpeg reads from it frees memory that
the reading thread still uses (a crash), so ``container.close()`` is not an
option. Instead we give PyAV's module a clock that, for a thread marked as
interrupted, runs a very long way ahead: the callback sees its timeout expired
and FFmpeg returns at its next check (within milliseconds), raising
``av.ExitError`` in the reading thread. Other threads see the real clock.

This relies on PyAV calling ``time.monotonic`` through its module global, true
for PyAV 14 to 18; ``install()`` reports whether the hook is in place, and the
sources tests check that a blocked read stops within 2 s. Without the hook a
blocked read still ends at its read timeout.
"""

from __future__ import annotations

import logging
import threading
import time
import types
from collections.abc import Callable

logger = logging.getLogger(__name__)

_AHEAD_S = 1e9
_interrupted: set[int] = set()
_lock = threading.Lock()
_installed: bool | None = None


class _Clock:
    """A stand-in for the ``time`` module inside ``av.container.core``."""

    def __init__(self, real: types.ModuleType) -> None:
        self._real = real
        self._monotonic: Callable[[], float] = real.monotonic
        self._get_ident: Callable[[], int] = threading.get_ident

    def monotonic(self) -> float:
        """The real clock, or far in the future for an interrupted thread."""
        now = self._monotonic()
        if _interrupted and self._get_ident() in _interrupted:
            return now + _AHEAD_S
        return now

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


def install() -> bool:
    """Put the interruptible clock into PyAV once; return whether it is in place."""
    global _installed
    with _lock:
        if _installed is None:
            _installed = _install_locked()
        return _installed


def _install_locked() -> bool:
    try:
        import av.container.core as core
    except ImportError:  # pragma: no cover - PyAV is a dependency
        return False
    current = getattr(core, "time", None)
    if isinstance(current, _Clock):
        return True
    if current is not time:
        logger.warning("PyAV internals changed: blocked reads end only at their read timeout")
        return False
    core.time = _Clock(time)  # type: ignore[attr-defined]
    return True


def interrupt(thread_id: int) -> None:
    """Make PyAV calls running in ``thread_id`` give up at their next check."""
    with _lock:
        _interrupted.add(thread_id)


def clear(thread_id: int) -> None:
    """Let PyAV calls in ``thread_id`` run normally again."""
    with _lock:
        _interrupted.discard(thread_id)
