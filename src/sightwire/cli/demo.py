"""``sightwire demo``: the logistics line end to end on a generated conveyor clip.

The demo makes a sample conveyor clip once (parcels with shipping labels, some of
them declared 8-20 % off in the manifest, one label smudged), starts a WMS
simulator on localhost when ``WMS_URL`` is not set (a stand-in, announced as such),
and runs ``examples/logistics/site.yaml`` on the clip: Sightwire's own model finds
parcels and labels, the tracker follows them, each label's Code128 barcode is read,
each parcel's footprint is measured in millimetres and its height from the clip's
depth video, and at the exit line the parcel is looked up in the WMS and routed (QC
for a size or dimensional-weight mismatch, MANUAL for an unreadable or unknown
label). It prints each routing as it happens and a summary at the end: parcels seen,
read rate, routes by station and reason, and capture-to-route latency. While it runs
it serves the API and the web UI on its own events (``cli/demo_serve.py``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from sightwire.cli.demo_report import parcel_table, summarise, summary_table
from sightwire.cli.demo_run import DemoRun, demo_runner, run_demo, stop_on_signals
from sightwire.cli.demo_scale import demo_scale
from sightwire.cli.demo_serve import demo_api
from sightwire.config import ConfigError, SightwireConfig, load_config
from sightwire.inference.bundled import PARCELS_MODEL
from sightwire.runtime.display import summary_table as camera_table
from sightwire.runtime.live import LiveView
from sightwire.synth import DepthOptions, GroundTruth, write_conveyor
from sightwire.synth.depth import depth_path
from sightwire.wms import WmsSimulator

TRACKING_NUMBER = r"1Z[0-9A-Z]{16}"
EXAMPLE = Path("examples") / "logistics" / "site.yaml"
QUIET_LOGGERS = (
    "httpx",
    "sightwire.run",
    "sightwire.sensors",
    "uvicorn.access",  # a line per request: the UI polls every second
    "uvicorn.error",  # its start and stop lines (errors still show)
    "sightwire.api.auth",
)
DEMO_SEED = 1
"""Seed of the sample clip: 24 parcels, six declared wrong (length, width, height and
weight in turn; the weight needs a belt scale), one smudged label, one smudged barcode
(its printed number is read by OCR)."""


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
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API and web UI while it runs")
    ] = True,
    port: Annotated[
        int, typer.Option(help="Port of the API and UI (taken: a free one)", min=0, max=65535)
    ] = 8080,
    stay: Annotated[
        bool, typer.Option("--stay", help="Keep serving after the summary, until Ctrl-C")
    ] = False,
) -> None:
    """Run the logistics line on a sample conveyor clip and route its parcels.

    Reads, measures and checks each parcel against the WMS (a local stand-in when
    WMS_URL is unset), routes mismatches, and prints what happened beside the clip's
    ground truth. The clip is made once in DATA (delete it to make another). While it
    runs, the API and web UI serve its events on http://127.0.0.1:PORT/ui, with a demo
    key printed at the start and revoked at the end.
    """
    err = Console(stderr=True)
    _quiet()
    clip = sample_clip(data, seconds, parcels, err)
    truth = GroundTruth.load(clip)
    stop = threading.Event()  # Ctrl-C or SIGTERM, at any point from here on
    with stop_on_signals(stop), _wms(truth, err) as (wms_url, wms), ExitStack() as serving:
        loaded, feed = demo_scale(_load(config, clip, truth, data, wms_url, realtime), truth, err)
        result = DemoRun()
        live = LiveView(loaded) if serve else None
        runner = demo_runner(loaded, result, feed, live, show_progress=not as_json, console=err)
        served = serving.enter_context(demo_api(loaded, runner, live, port, err)) if live else None
        run_demo(runner, result, duration, stop, show_progress=not as_json, console=err)
        report = summarise(result, truth, wms.routes() if wms else None)
        report["ui"] = served.ui if served else None
        _print(report, result, as_json)
        if served is not None and stay:
            err.print(f"serving {served.ui} until Ctrl-C (the key printed at the start)")
            while not stop.wait(0.5):  # a timed wait: the signal handler runs in between
                pass


def sample_clip(data: Path, seconds: float, parcels: int, err: Console) -> Path:
    """The sample clip in ``data``, made first when it (or its depth video) is missing."""
    clip = data / "conveyor.mp4"
    made = (clip, GroundTruth.path_for(clip), depth_path(clip))
    if not all(path.exists() for path in made):  # a clip of an older demo lacks depth
        data.mkdir(parents=True, exist_ok=True)
        err.print(f"making the sample clip {clip} ({parcels} parcels, {seconds:g} s) …")
        write_conveyor(
            clip,
            seconds=seconds,
            parcels=parcels,
            seed=DEMO_SEED,
            damaged_barcodes=min(1, parcels - 1),
            depth=DepthOptions(),
        )
    return clip


def _print(report: dict[str, Any], result: DemoRun, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    console = Console()
    console.print(camera_table(result.rows))
    console.print(parcel_table(report["parcels"]))
    console.print(summary_table(report["summary"]))


def _quiet() -> None:
    """Leave out a line per HTTP request and per event (the demo prints its own
    line per route), unless logging was asked for in detail (``--log-level debug``)."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


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
        "BELT_DEPTH": str(depth_path(clip)),
        "PARCELS_MODEL": os.environ.get("PARCELS_MODEL", str(PARCELS_MODEL)),
        "MM_PER_PIXEL": str(truth.scene.mm_per_pixel or 1.5),
        "SIGHTWIRE_DATA": str(data),
        "SCALE_CLOCK": "stream",  # the simulated scale stamps readings on the clip's clock
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
