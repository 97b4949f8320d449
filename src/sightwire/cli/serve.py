"""``sightwire serve``: the REST API, and the pipelines in the same process."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sightwire.config import ConfigError, load_config


def serve(
    config: Annotated[Path, typer.Argument(help="The YAML config file")],
    host: Annotated[
        str | None, typer.Option("--host", help="Listen on this address (default: api.host)")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", help="Listen on this port (default: api.port)")
    ] = None,
    no_pipelines: Annotated[
        bool, typer.Option("--no-pipelines", help="Serve the API only; run no camera")
    ] = False,
) -> None:
    """Serve the API (and, unless --no-pipelines, run every camera) until Ctrl-C.

    HTTPS and client certificates come from `api.tls`; sign-in from API keys
    (`sightwire keys create ...`) and `api.oidc`. The OpenAPI page is at /api/docs.
    """
    from sightwire.api.server import Service, listen_on
    from sightwire.security.tls import TlsError

    try:
        loaded = listen_on(load_config(config), host, port)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    try:
        service = Service(loaded, pipelines=not no_pipelines)
        service.context.config_path = config  # the web UI's zone editor saves here
    except TlsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    service.run()
