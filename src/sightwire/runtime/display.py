"""A live table of cameras on a terminal, and the closing summary."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from sightwire.runtime.stats import CameraStats


def camera_table(stats: Mapping[str, CameraStats], title: str = "Cameras") -> Table:
    """Camera, state, frames processed, rate, frames with motion, activity periods."""
    table = Table(title=title, title_justify="left")
    for column in ("camera", "state", "processed", "fps", "motion", "activity", "at (s)"):
        table.add_column(column, justify="left" if column in ("camera", "state") else "right")
    for s in stats.values():
        state = s.state.value + (f" ({s.detail})" if s.detail and s.state.value == "failed" else "")
        table.add_row(
            s.camera,
            state,
            str(s.processed),
            f"{s.rate():.1f}",
            str(s.with_motion),
            str(len(s.activity)),
            f"{s.last_pts:.1f}",
        )
    return table


class LiveDisplay:
    """Refreshes :func:`camera_table` a few times a second until stopped."""

    def __init__(self, stats: Mapping[str, CameraStats], console: Console) -> None:
        self._stats = stats
        self._live = Live(
            camera_table(stats), console=console, refresh_per_second=4, transient=True
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="display", daemon=True)

    def __enter__(self) -> LiveDisplay:
        self._live.__enter__()
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            self._live.update(camera_table(self._stats))

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self._live.__exit__(None, None, None)


def summary_table(rows: list[dict[str, Any]]) -> Table:
    """The closing summary: what each camera saw."""
    table = Table(title="What Sightwire saw", title_justify="left")
    for column in (
        "camera",
        "state",
        "frames",
        "processed",
        "motion",
        "idle skipped",
        "dropped",
        "activity periods (s)",
    ):
        table.add_column(column)
    for r in rows:
        periods = ", ".join(f"{a['start_s']:.1f}–{a['end_s']:.1f}" for a in r["activity"][:8])
        if len(r["activity"]) > 8:
            periods += f" … (+{len(r['activity']) - 8})"
        state = r["state"] + (f": {r['detail']}" if r["state"] == "failed" else "")
        table.add_row(
            r["camera"],
            state,
            str(r["frames"]),
            str(r["processed"]),
            str(r["with_motion"]),
            str(r["skipped_idle"]),
            str(r["dropped"]),
            periods or "none",
        )
    return table
