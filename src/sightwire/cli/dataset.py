"""``sightwire dataset export``: reviewed, redacted images and their labels.

Examples::

    sightwire dataset export site.yaml --format yolo -o datasets/parcels-2026-11
    sightwire dataset export site.yaml --format coco -o out --since 7d --camera belt-1
    sightwire dataset export site.yaml --format yolo -o out --include-unreviewed --json
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sightwire.cli.events import parse_when, store_config
from sightwire.review.export import ExportError, ExportSummary, export_dataset
from sightwire.review.store import ReviewQueue
from sightwire.storage.blobs import open_blob_store
from sightwire.storage.database import DatabaseError, open_database

dataset_app = typer.Typer(help="Training datasets from reviewed items.", no_args_is_help=True)
FORMATS = ("yolo", "coco")


@dataset_app.command("export")
def export(
    config: Annotated[Path, typer.Argument(help="The site's config (its store: is read)")],
    format_: Annotated[str, typer.Option("--format", help="yolo or coco")],
    output: Annotated[Path, typer.Option("--output", "-o", help="A new or empty folder")],
    since: Annotated[
        str | None,
        typer.Option(help="Captured since: ISO 8601 time, or an age such as 7d or 12h"),
    ] = None,
    camera: Annotated[
        list[str] | None, typer.Option("--camera", help="Only this camera (repeatable)")
    ] = None,
    include_unreviewed: Annotated[
        bool,
        typer.Option(
            "--include-unreviewed/--no-include-unreviewed",
            help="Also pending items, with the model's boxes as labels (default: no)",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Write confirmed and corrected items, with every decision applied, as a dataset."""
    if format_ not in FORMATS:
        raise typer.BadParameter("must be yolo or coco", param_hint="--format")
    store = store_config(config)
    cameras = frozenset(camera) if camera else None
    try:
        blobs = open_blob_store(store.blobs)
        database = open_database(store.database, migrate=True, tls=store.tls)
    except (DatabaseError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    console = Console(stderr=True)
    try:
        with console.status("exporting…") as status:  # shown on a terminal only
            summary = export_dataset(
                ReviewQueue(database),
                blobs,
                output,
                "yolo" if format_ == "yolo" else "coco",
                since=parse_when(since, "--since"),
                cameras=cameras,
                include_unreviewed=include_unreviewed,
                on_image=lambda n: status.update(f"exporting… {n} image(s)"),
            )
    except ExportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        database.close()
    _print(summary, as_json)


def _print(summary: ExportSummary, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(asdict(summary), indent=2))
        return
    classes = ", ".join(summary.classes) or "none"
    typer.echo(
        f"{summary.format}: {summary.images} image(s), {summary.boxes} box(es) "
        f"in {summary.folder}; classes: {classes}"
    )
    for reason, count in summary.skipped.items():
        typer.echo(f"skipped {count}: {reason}")
