"""The ``sightwire`` command."""

from __future__ import annotations

from typing import Annotated

import typer

from sightwire import __version__
from sightwire.cli import (
    audit,
    config_cmds,
    dataset,
    demo,
    events,
    keys,
    models,
    roles,
    run,
    serve,
    synth,
)
from sightwire.runtime.logs import configure_logging

app = typer.Typer(
    name="sightwire",
    help="Turn camera feeds into typed, signed business events.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _options(
    log_format: Annotated[
        str, typer.Option("--log-format", help="text or json (one object per line)")
    ] = "text",
    log_level: Annotated[
        str, typer.Option("--log-level", help="debug, info, warning, error")
    ] = "info",
) -> None:
    if log_format not in ("text", "json"):
        raise typer.BadParameter("must be text or json", param_hint="--log-format")
    configure_logging("json" if log_format == "json" else "text", log_level)


@app.command()
def version() -> None:
    """Print Sightwire's version."""
    typer.echo(__version__)


app.command("validate")(config_cmds.validate)
app.add_typer(config_cmds.config_app, name="config")
app.command("run")(run.run)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("ingest")(roles.ingest)
app.command("worker")(roles.worker)
app.command("dispatch")(roles.dispatch)
app.add_typer(synth.synth_app, name="synth")
app.add_typer(models.models_app, name="models")
app.add_typer(events.events_app, name="events")
app.add_typer(events.db_app, name="db")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(audit.audit_app, name="audit")
app.add_typer(dataset.dataset_app, name="dataset")


def main() -> None:
    """Entry point of the ``sightwire`` script."""
    app()
