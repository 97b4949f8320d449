"""``sightwire validate`` and ``sightwire config schema``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from sightwire.config import ConfigError, SightwireConfig, load_config

config_app = typer.Typer(help="Inspect the config format.", no_args_is_help=True)


def validate(
    config: Annotated[Path, typer.Argument(help="The YAML config file")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Check a config file; list every problem as FILE:LINE: PATH: MESSAGE and exit 1."""
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        if as_json:
            issues = [
                {"file": i.file, "line": i.line, "path": i.path, "message": i.message}
                for i in exc.issues
            ]
            typer.echo(json.dumps({"valid": False, "issues": issues}, indent=2))
        else:
            for issue in exc.issues:
                typer.echo(str(issue), err=True)
            typer.echo(f"{len(exc.issues)} problem(s) in {config}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps({"valid": True, "cameras": sorted(loaded.cameras)}))
    else:
        typer.echo(
            f"{config}: valid ({len(loaded.cameras)} camera(s), {len(loaded.rules)} rule(s))"
        )


@config_app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout")
    ] = None,
) -> None:
    """Print the JSON Schema of the config file, for editor completion.

    In VS Code with the YAML extension, add to a config's first line:
    ``# yaml-language-server: $schema=sightwire.schema.json``
    """
    document = SightwireConfig.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "Sightwire config"
    text = json.dumps(document, indent=2)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")
        typer.echo(f"wrote {output}", err=True)
