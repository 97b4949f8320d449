"""``sightwire demo``: the logistics line end to end on a generated conveyor clip.

The demo makes a sample conveyor clip once (parcels with shipping labels, some of
them declared 8-20 % off in the manifest, one label smudged), starts a WMS
simulator on localhost when ``WMS_URL`` is not set (a stand-in, announced as such),
and runs ``examples/logistics/site.yaml`` on the clip: Sightwire's own model finds
parcels and labels, the tracker follows them, each label's Code128 barcode is read,
each parcel's footprint is measured in millimetres, and at the exit line the parcel
is looked up in the WMS and routed (QC for a size mismatch, MANUAL for an unreadable
or unknown label). It prints each routing as it happens and a summary at the end:
parcels seen, read rate, routes by station and reason, and capture-to-route latency.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from sightwire.cli.run import DRAIN_TIMEOUT_S
from sightwire.config import ConfigError, SightwireConfig, load_config
from sightwire.inference.bundled import PARCELS_MODEL
from sightwire.rules import RuleOutcome
from sightwire.runtime.display import LiveDisplay, summary_table
from sightwire.runtime.objects import ObjectLog, SeenObject
from sightwire.runtime.pipeline import FrameResult
from sightwire.runtime.runner import Runner
from sightwire.synth import GroundTruth, write_conveyor
from sightwire.wms import WmsSimulator

TRACKING_NUMBER = r"1Z[0-9A-Z]{16}"
EXAMPLE = Path("examples") / "logistics" / "site.yaml"
QUIET_LOGGERS = ("httpx", "sightwire.run")
DEMO_SEED = 1
"""Seed of the sample clip: 24 parcels, six declared wrong (three of them in length or
width, which the camera sees; three in height or weight, which need a depth camera or
a belt scale), one smudged label."""


def demo(
    data: Annotated[Path, typer.Option(help="Folder for the sample clip and events")] = Path(
        "data/demo"
    ),
    config: Annotated[
        Path | None,
        typer.Option(help="The logistics config (default: examples/logistics/site.yaml)"),
    ] = None,
    realtime: Annotated[
        bool, typer.Option(help="Play the clip at its own pace, like a live camera")
    ] = False,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds", min=1)
    ] = None,
    seconds: Annotated[float, typer.Option(help="Length of a new sample clip", min=10)] = 80,
    parcels: Annotated[int, typer.Option(help="Parcels in a new sample clip", min=1)] = 24,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Run the logistics line on a sample conveyor clip and route its parcels.

    Reads, measures and checks each parcel against the WMS (a local stand-in when
    WMS_URL is unset), routes mismatches, and prints what happened beside the clip's
    ground truth. The clip is made once in DATA (delete it to make another).
    """
    err = Console(stderr=True)
    _quiet()
    clip = data / "conveyor.mp4"
    if not clip.exists() or not GroundTruth.path_for(clip).exists():
        data.mkdir(parents=True, exist_ok=True)
        err.print(f"making the sample clip {clip} ({parcels} parcels, {seconds:g} s) …")
        write_conveyor(clip, seconds=seconds, parcels=parcels, seed=DEMO_SEED)
    truth = GroundTruth.load(clip)
    with _wms(truth, err) as (wms_url, wms):
        loaded = _load(config, clip, truth, data, wms_url, realtime)
        result = _run(loaded, duration, show_progress=not as_json, console=err, wms=wms)
    report = summarise(result, truth, wms.routes() if wms else None)
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    console = Console()
    console.print(summary_table(result.rows))
    console.print(_parcel_table(report["parcels"]))
    console.print(_summary_table(report["summary"]))


def _quiet() -> None:
    """Leave out a line per HTTP request and per event (the demo prints its own
    line per route), unless logging was asked for in detail (``--log-level debug``)."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


class DemoRun:
    """What one run saw: camera summaries, every rule outcome, every tracked object."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.outcomes: list[RuleOutcome] = []
        self.log = ObjectLog()
        self.stopped_early = False
        self.realtime = False


@contextmanager
def _wms(truth: GroundTruth, err: Console) -> Iterator[tuple[str, WmsSimulator | None]]:
    """The WMS to use: ``$WMS_URL``, or a simulator serving the clip's manifest."""
    url = os.environ.get("WMS_URL")
    if url:
        err.print(f"using the WMS at {url}")
        yield url.rstrip("/"), None
        return
    with WmsSimulator(truth.manifest) as wms:
        err.print(
            f"WMS_URL is not set: started a WMS simulator at {wms.url} "
            f"({len(truth.manifest)} parcels from the clip's manifest). It is a demo "
            "stand-in, not a WMS; set WMS_URL to use a real one."
        )
        yield wms.url, wms


def _load(
    path: Path | None,
    clip: Path,
    truth: GroundTruth,
    data: Path,
    wms_url: str,
    realtime: bool,
) -> SightwireConfig:
    file = path or _example()
    env = {
        **os.environ,
        "WMS_URL": wms_url,
        "BELT_SOURCE": str(clip),
        "PARCELS_MODEL": os.environ.get("PARCELS_MODEL", str(PARCELS_MODEL)),
        "MM_PER_PIXEL": str(truth.scene.mm_per_pixel or 1.5),
        "SIGHTWIRE_DATA": str(data),
    }
    try:
        loaded = load_config(file, env)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    if realtime:
        cameras = {n: c.model_copy(update={"realtime": True}) for n, c in loaded.cameras.items()}
        loaded = loaded.model_copy(update={"cameras": cameras})
    return loaded


def _example() -> Path:
    """examples/logistics/site.yaml of the source tree, or of the working directory."""
    for root in (Path(__file__).resolve().parents[3], Path.cwd()):
        if (root / EXAMPLE).is_file():
            return root / EXAMPLE
    typer.echo(f"cannot find {EXAMPLE} (run from the project's folder, or pass --config)", err=True)
    raise typer.Exit(1)


def _run(
    config: SightwireConfig,
    duration: float | None,
    *,
    show_progress: bool,
    console: Console,
    wms: WmsSimulator | None,
) -> DemoRun:
    """Run ``config`` until its files end (or ``duration``, or Ctrl-C); deliver routes."""
    result = DemoRun()
    result.realtime = any(c.realtime for c in config.cameras.values())
    lock = threading.Lock()

    def on_outcome(outcome: RuleOutcome, _result: FrameResult) -> None:
        with lock:
            result.outcomes.append(outcome)
        if show_progress:
            a = outcome.event.data.attributes
            console.print(
                f"[bold]{outcome.rule}[/] {a.get('barcode') or '(no barcode)'} → "
                f"{a.get('station', '-')}: {a.get('reason', '')} "
                f"[dim]({outcome.event.data.latency_ms or 0:.0f} ms)[/]"
            )

    def on_result(frame: FrameResult) -> None:
        with lock:
            result.log.add(frame)

    runner = Runner(config, until_end=True, on_result=on_result, on_outcome=on_outcome)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        result.stopped_early = True
        runner.request_stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    deadline = None if duration is None else time.monotonic() + duration
    try:
        runner.start()
        if show_progress and console.is_terminal:
            with LiveDisplay(runner.stats, console):
                _wait(runner, deadline, result)
        else:
            _wait(runner, deadline, result)
        pending = runner.drain(DRAIN_TIMEOUT_S)
        if pending:
            console.print(f"{pending} routes still pending after {DRAIN_TIMEOUT_S:g} s")
    finally:
        runner.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    result.rows = runner.summary()
    return result


def _wait(runner: Runner, deadline: float | None, result: DemoRun) -> None:
    while not runner.wait(0.2):
        if deadline is not None and time.monotonic() > deadline and not runner.stopping:
            result.stopped_early = True
            runner.request_stop()


def summarise(run: DemoRun, truth: GroundTruth, routes: list[Any] | None) -> dict[str, Any]:
    """The demo's report: cameras, parcels beside the truth, routes, and the summary."""
    tracked = [o for o in run.log.objects() if o.class_name == "parcel"]
    parcels = compare(tracked, truth)
    routed = {o.event.id: o for o in run.outcomes}
    route_rows = []
    if routes is not None:  # what the (simulated) WMS received
        for r in routes:
            outcome = routed.get(r.event_id)
            if outcome is None:  # an earlier run's delivery, made now
                continue
            captured = outcome.event.data.captured_at if outcome else None
            route_rows.append(
                {
                    "tracking_number": r.tracking_number,
                    "station": r.station,
                    "reason": r.reason,
                    "event_id": r.event_id,
                    "rule": outcome.rule if outcome else None,
                    "track_id": _track(outcome),
                    "capture_to_route_ms": None
                    if captured is None
                    else round((r.received_at - captured) * 1000, 1),
                }
            )
    else:  # a real WMS: what was sent to it
        for o in run.outcomes:
            a = o.event.data.attributes
            route_rows.append(
                {
                    "tracking_number": a.get("tracking_number") or a.get("barcode") or "",
                    "station": a.get("station"),
                    "reason": a.get("reason"),
                    "event_id": o.event.id,
                    "rule": o.rule,
                    "track_id": _track(o),
                    "capture_to_route_ms": None,
                }
            )
    # Stopped early, judge reading only on the parcels that had left the picture.
    upto = max((o.last_s for o in tracked), default=0.0) if run.stopped_early else None
    judged = [p for p in parcels if upto is None or p["on_belt_s"][1] <= upto]
    readable = [p for p in judged if p["readable"]]
    read = [p for p in readable if p["read"] == p["tracking_number"]]
    by_track = {r["track_id"]: r for r in route_rows if r["track_id"] is not None}
    for p in parcels:
        route = by_track.get(p["track_id"])
        p["routed"] = None if route is None else f"{route['station']} ({route['reason']})"
    emit = [o.event.data.latency_ms for o in run.outcomes if o.event.data.latency_ms is not None]
    to_route = [
        r["capture_to_route_ms"] for r in route_rows if r["capture_to_route_ms"] is not None
    ]
    summary = {
        "parcels_seen": len(tracked),
        "parcels_in_clip": len(truth.parcels),
        "parcels_passed": len(judged),
        "readable_labels": len(readable),
        "labels_read": len(read),
        "read_rate": round(len(read) / len(readable), 4) if readable else None,
        "routed": len(route_rows),
        "by_station": dict(Counter(str(r["station"]) for r in route_rows)),
        "by_rule": dict(Counter(str(r["rule"]) for r in route_rows)),
        "by_reason": dict(Counter(str(r["reason"]) for r in route_rows)),
        "capture_to_emit_ms": _percentiles(emit),
        "capture_to_route_ms": _percentiles(to_route),
        "realtime": run.realtime,
        "stopped_early": run.stopped_early,
    }
    return {"cameras": run.rows, "parcels": parcels, "routes": route_rows, "summary": summary}


def _track(outcome: RuleOutcome | None) -> int | None:
    if outcome is None or not outcome.event.data.objects:
        return None
    return outcome.event.data.objects[0].track_id


def _percentiles(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    return {
        "p50": round(float(np.percentile(values, 50)), 1),
        "p99": round(float(np.percentile(values, 99)), 1),
        "max": round(float(max(values)), 1),
    }


def compare(parcels: list[SeenObject], truth: GroundTruth) -> list[dict[str, Any]]:
    """Each true parcel beside the tracked parcel that overlapped it most in time."""
    report = []
    for p in truth.parcels:
        overlap = [(min(o.last_s, p.exit_s) - max(o.first_s, p.entry_s), o) for o in parcels]
        best = max(overlap, key=lambda pair: pair[0], default=(0.0, None))
        seen = best[1] if best[0] > 0 else None
        report.append(
            {
                "tracking_number": p.tracking_number,
                "readable": p.label_readable,
                "manifest_mismatch": p.manifest_mismatch,
                "on_belt_s": [round(p.entry_s, 1), round(p.exit_s, 1)],
                "track_id": seen.track_id if seen else None,
                "read": seen.reading("barcode") if seen else "",
            }
        )
    return report


def _parcel_table(report: list[dict[str, Any]]) -> Table:
    table = Table(
        "parcel (truth)",
        "on belt (s)",
        "track",
        "barcode read",
        "",
        "declared wrong",
        "routed",
        title="Parcels",
        title_justify="left",
    )
    for r in report:
        verdict = (
            "✓"
            if r["read"] == r["tracking_number"]
            else ("damaged label" if not r["readable"] else "✗")
        )
        span = f"{r['on_belt_s'][0]:.1f}–{r['on_belt_s'][1]:.1f}"
        table.add_row(
            r["tracking_number"],
            span,
            str(r["track_id"] or "-"),
            r["read"] or "-",
            verdict,
            ", ".join(r["manifest_mismatch"]) or "-",
            r["routed"] or "-",
        )
    return table


def _summary_table(s: dict[str, Any]) -> Table:
    table = Table("", "", title="Summary", title_justify="left", show_header=False)
    table.add_row(
        "parcels seen",
        f"{s['parcels_seen']} (passed by: {s['parcels_passed']} of the clip's "
        f"{s['parcels_in_clip']})",
    )
    rate = "-" if s["read_rate"] is None else f"{s['read_rate']:.0%}"
    table.add_row("read rate", f"{s['labels_read']} of {s['readable_labels']} readable ({rate})")
    table.add_row("routed", str(s["routed"]))
    for station, count in sorted(s["by_station"].items()):
        table.add_row(f"  to {station}", str(count))
    for reason, count in sorted(s["by_reason"].items()):
        table.add_row(f"  {reason}", str(count))
    for name, key in (
        ("capture → event", "capture_to_emit_ms"),
        ("capture → route", "capture_to_route_ms"),
    ):
        p = s[key]
        table.add_row(name, "-" if p is None else f"p50 {p['p50']:.0f} ms, p99 {p['p99']:.0f} ms")
    if not s["realtime"]:
        table.add_row(
            "", "[dim]fast mode: frames wait in the queue; --realtime for live latency[/]"
        )
    if s["stopped_early"]:
        table.add_row("", "[dim]stopped before the clip ended[/]")
    return table
