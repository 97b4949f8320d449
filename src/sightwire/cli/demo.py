"""``sightwire demo``: parcels on a conveyor, detected, tracked and read.

Until the logistics example (rules, the WMS, routing) lands, the demo runs the
vision half of it on the embedded default: it makes the sample conveyor clip once,
detects parcels and labels with Sightwire's own model, tracks them, reads each
label's Code128 barcode, and prints what it saw beside the clip's ground truth.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sightwire.cli.run import print_summary, run_until_done
from sightwire.config.models import (
    BarcodeStep,
    CameraConfig,
    DetectOptions,
    DetectStep,
    ModelConfig,
    MotionConfig,
    ReadOptions,
    SightwireConfig,
    TrackStep,
)
from sightwire.inference.bundled import PARCELS_MODEL
from sightwire.runtime.objects import ObjectLog, SeenObject
from sightwire.synth import GroundTruth, write_conveyor

TRACKING_NUMBER = r"1Z[0-9A-Z]{16}"


def demo(
    data: Annotated[Path, typer.Option(help="Folder for the sample clip")] = Path("data/demo"),
    realtime: Annotated[
        bool, typer.Option(help="Play the clip at its own pace, like a live camera")
    ] = False,
    seconds: Annotated[float, typer.Option(help="Length of a new sample clip", min=10)] = 60,
    parcels: Annotated[int, typer.Option(help="Parcels in a new sample clip", min=1)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Detect, track and read parcels on a sample conveyor clip; compare with the truth.

    The clip is made once in DATA (delete it to make another with other settings).
    """
    clip = data / "conveyor.mp4"
    if not clip.exists() or not GroundTruth.path_for(clip).exists():
        data.mkdir(parents=True, exist_ok=True)
        Console(stderr=True).print(
            f"making the sample clip {clip} ({parcels} parcels, {seconds:g} s) …"
        )
        write_conveyor(clip, seconds=seconds, parcels=parcels, seed=1)
    truth = GroundTruth.load(clip)
    log = ObjectLog()
    rows = run_until_done(
        demo_config(clip, realtime), until_end=True, show_progress=not as_json, on_result=log.add
    )
    tracked = [o for o in log.objects() if o.class_name == "parcel"]
    report = compare(tracked, truth)
    if as_json:
        typer.echo(json.dumps({"cameras": rows, "parcels": report}, indent=2))
        return
    print_summary(rows, as_json=False)
    Console().print(_parcel_table(report))
    readable = [r for r in report if r["readable"]]
    read = sum(1 for r in readable if r["read"] == r["tracking_number"])
    Console().print(
        f"Read {read} of {len(readable)} readable labels "
        f"({len(report) - len(readable)} damaged on purpose). Rules, the WMS check and "
        "routing arrive with the rules and logistics issues."
    )


def demo_config(clip: Path, realtime: bool) -> SightwireConfig:
    """One overhead camera: sample 5 fps, gate on motion, detect, track, read barcodes."""
    camera = CameraConfig(
        source=str(clip),
        fps=5,
        realtime=realtime,
        motion=MotionConfig(),
        analyse=[
            DetectStep(detect=DetectOptions(model="parcels", confidence=0.2)),
            TrackStep(),
            BarcodeStep(barcode=ReadOptions(within="parcel", pattern=TRACKING_NUMBER)),
        ],
    )
    model = ModelConfig(path=str(PARCELS_MODEL), confidence=0.2)
    return SightwireConfig(site="demo", models={"parcels": model}, cameras={"belt-1": camera})


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
            r["tracking_number"], span, str(r["track_id"] or "-"), r["read"] or "-", verdict
        )
    return table
