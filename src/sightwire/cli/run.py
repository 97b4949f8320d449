"""``sightwire run``: run the pipelines of a config."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console

from sightwire.config import ConfigError, SightwireConfig, load_config
from sightwire.runtime.display import LiveDisplay, summary_table
from sightwire.runtime.runner import ResultListener, Runner

DRAIN_TIMEOUT_S = 30.0


def run(
    config: Annotated[Path, typer.Argument(help="The YAML config file")],
    source: Annotated[
        list[str] | None,
        typer.Option("--source", help="CAMERA=URI: read this camera from another input"),
    ] = None,
    until_end: Annotated[
        bool, typer.Option("--until-end", help="Exit when every file source has ended")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Run every camera's pipeline and rules until Ctrl-C.

    With --until-end, exit when every file source has ended and every event recorded
    has been delivered (or 30 s have passed; what is left stays in the outbox).
    """
    try:
        loaded = with_sources(load_config(config), source or [])
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    rows = run_until_done(loaded, until_end=until_end, show_progress=not as_json)
    print_summary(rows, as_json)
    if rows and all(r["state"] == "failed" for r in rows):
        raise typer.Exit(1)


def with_sources(config: SightwireConfig, overrides: list[str]) -> SightwireConfig:
    """``config`` with ``CAMERA=URI`` overrides applied; unknown cameras are errors."""
    cameras = dict(config.cameras)
    for item in overrides:
        name, sep, uri = item.partition("=")
        if not sep or not uri:
            raise typer.BadParameter(f"{item!r} is not CAMERA=URI", param_hint="--source")
        if name not in cameras:
            known = ", ".join(sorted(cameras)) or "none"
            raise typer.BadParameter(
                f"no camera {name!r} (cameras: {known})", param_hint="--source"
            )
        cameras[name] = cameras[name].model_copy(update={"source": uri})
    return config.model_copy(update={"cameras": cameras})


def run_until_done(
    config: SightwireConfig,
    *,
    until_end: bool,
    show_progress: bool,
    on_result: ResultListener | None = None,
) -> list[dict[str, Any]]:
    """Run ``config`` until a signal, or the end of every file with ``until_end``."""
    runner = Runner(config, until_end=until_end, on_result=on_result)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        runner.request_stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    console = Console(stderr=True)
    try:
        runner.start()
        if show_progress and console.is_terminal:
            with LiveDisplay(runner.stats, console):
                _wait(runner)
        else:
            _wait(runner)
        if until_end and not runner.stopping:
            pending = runner.drain(DRAIN_TIMEOUT_S)
            if pending:
                console.print(
                    f"{pending} deliveries still pending after {DRAIN_TIMEOUT_S:g} s; "
                    "the next run delivers them (they are in the outbox)"
                )
    finally:
        runner.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return runner.summary()


def _wait(runner: Runner) -> None:
    # Short waits keep the main thread responsive to signals.
    while not runner.wait(0.2):
        pass


def print_summary(rows: list[dict[str, Any]], as_json: bool) -> None:
    """The closing summary, as a table on stdout or as JSON."""
    if as_json:
        json.dump({"cameras": rows}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        Console().print(summary_table(rows))
