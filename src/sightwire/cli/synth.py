"""``sightwire synth``: synthetic scenes with ground truth."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from sightwire.synth import (
    DepthOptions,
    GroundTruth,
    write_conveyor,
    write_lighting,
    write_static,
)

synth_app = typer.Typer(
    help="Make synthetic clips with ground truth (OUT.mp4 and OUT.json).", no_args_is_help=True
)

Out = Annotated[Path, typer.Argument(help="The MP4 to write; ground truth goes beside it")]
Seconds = Annotated[float, typer.Option(help="Length of the clip", min=1, max=3600)]
Fps = Annotated[float, typer.Option(help="Frames per second", min=1, max=60)]
Seed = Annotated[int, typer.Option(help="Same seed, same clip")]
Json = Annotated[bool, typer.Option("--json", help="Print the ground truth summary as JSON")]


@synth_app.command("conveyor")
def conveyor(
    out: Out,
    seconds: Seconds = 20.0,
    fps: Fps = 25.0,
    parcels: Annotated[int, typer.Option(help="Parcels crossing the belt", min=1)] = 6,
    belt_speed: Annotated[float, typer.Option(help="Belt speed, pixels per second")] = 360.0,
    damaged_labels: Annotated[int, typer.Option(help="Parcels with unreadable labels")] = 1,
    damaged_barcodes: Annotated[
        int, typer.Option(help="Parcels with only the barcode smudged (the number is for OCR)")
    ] = 0,
    motion_blur: Annotated[float, typer.Option(help="Shutter share open, 0 = sharp")] = 0.0,
    lighting: Annotated[str, typer.Option(help="even or uneven")] = "even",
    mismatch_share: Annotated[
        float, typer.Option(help="Share of parcels declared 8-20 % off in the manifest")
    ] = 0.25,
    depth: Annotated[
        bool, typer.Option(help="Also write a top-down depth video (OUT.depth.mkv)")
    ] = False,
    depth_fps: Annotated[float, typer.Option(help="Depth pictures per second", min=1)] = 10.0,
    belt_distance: Annotated[
        float, typer.Option(help="Depth camera to belt, mm", min=100, max=60000)
    ] = 2000.0,
    seed: Seed = 0,
    as_json: Json = False,
) -> None:
    """Parcels with shipping labels (tracking number as text and Code128) on a belt;
    with --depth, the matching 16-bit depth video (millimetres) with true heights."""
    _make(
        out,
        as_json,
        lambda: write_conveyor(
            out,
            seconds=seconds,
            fps=fps,
            parcels=parcels,
            belt_speed_px_s=belt_speed,
            damaged_labels=damaged_labels,
            damaged_barcodes=damaged_barcodes,
            motion_blur=motion_blur,
            lighting=lighting,
            mismatch_share=mismatch_share,
            depth=DepthOptions(fps=depth_fps, belt_mm=belt_distance) if depth else None,
            seed=seed,
        ),
    )


@synth_app.command("static")
def static(
    out: Out,
    seconds: Seconds = 120.0,
    fps: Fps = 10.0,
    events: Annotated[int, typer.Option(help="People or carts walking through")] = 3,
    seed: Seed = 0,
    as_json: Json = False,
) -> None:
    """A still storeroom with sparse activity: mostly idle frames."""
    _make(
        out, as_json, lambda: write_static(out, seconds=seconds, fps=fps, events=events, seed=seed)
    )


@synth_app.command("lighting")
def lighting(
    out: Out,
    seconds: Seconds = 40.0,
    fps: Fps = 10.0,
    step_at: Annotated[float, typer.Option(help="When the lights switch, seconds")] = 12.0,
    seed: Seed = 0,
    as_json: Json = False,
) -> None:
    """The storeroom with a sudden lighting change, a slow ramp, and some activity."""
    _make(
        out,
        as_json,
        lambda: write_lighting(out, seconds=seconds, fps=fps, step_at_s=step_at, seed=seed),
    )


def _make(out: Path, as_json: bool, write: Callable[[], GroundTruth]) -> None:
    """Write a scene; impossible settings (a ValueError) are reported without a traceback."""
    try:
        truth = write()
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    scene = truth.scene
    active = sum(truth.activity)
    summary = {
        "video": str(out),
        "truth": str(out.with_suffix(".json")),
        "frames": len(truth.activity),
        "fps": scene.fps,
        "frames_with_activity": active,
        "parcels": len(truth.parcels),
        "depth": None if scene.depth_video is None else str(out.parent / scene.depth_video),
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            f"wrote {out} ({summary['frames']} frames at {scene.fps:g} fps, "
            f"{active} with activity, {len(truth.parcels)} parcels) and {summary['truth']}"
        )
