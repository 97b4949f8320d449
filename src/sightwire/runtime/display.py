"""Progress on a terminal (a bar per file camera, rates per camera) and the summary."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from sightwire.runtime.stats import CameraStats


class LiveDisplay:
    """One progress row per camera, refreshed a few times a second until closed.

    Files get a bar over their length; live cameras an open-ended row. Each row shows
    the source state, frames processed, the processing rate and frames with motion.
    """

    def __init__(self, stats: Mapping[str, CameraStats], console: Console) -> None:
        self._stats = stats
        self._progress = Progress(
            TextColumn("{task.description:<14}"),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[state]:<12}"),
            TextColumn("{task.fields[processed]:>6} frames {task.fields[rate]:>6.1f} fps"),
            TextColumn("motion {task.fields[motion]:>5}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="display", daemon=True)

    def __enter__(self) -> LiveDisplay:
        for name in self._stats:
            self._tasks[name] = self._progress.add_task(
                name, total=None, state="connecting", processed=0, rate=0.0, motion=0
            )
        self._progress.start()
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            self._refresh()

    def _refresh(self) -> None:
        for name, s in self._stats.items():
            self._progress.update(
                self._tasks[name],
                total=s.duration_s,
                completed=s.duration_s if s.state.value == "ended" else s.last_pts,
                state=s.state.value,
                processed=s.processed,
                rate=s.rate(),
                motion=s.with_motion,
            )

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self._refresh()
        self._progress.stop()


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
