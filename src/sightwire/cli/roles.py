"""``sightwire ingest|worker|dispatch CONFIG``: the distributed roles.

Each runs until SIGTERM or Ctrl-C (then stops gracefully: ingest keeps unsent frames
in its disk buffer, a worker leaves its group so its frames go to the others, a
dispatcher lets attempts in flight finish), logs its progress every 10 s, and with
``--health-port`` answers ``/healthz`` and ``/readyz`` for Kubernetes' probes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer

from sightwire.config import ConfigError, SightwireConfig, load_config
from sightwire.roles.health import serve_health

HealthPort = Annotated[
    int, typer.Option("--health-port", help="Serve /healthz and /readyz on this port (0: off)")
]
log = logging.getLogger("sightwire.roles")
ConfigPath = Annotated[Path, typer.Argument(help="The YAML config file")]


class _Role(Protocol):
    @property
    def ready(self) -> bool: ...

    async def run(self, stop: asyncio.Event) -> Any: ...


def ingest(
    config: ConfigPath,
    health_port: HealthPort = 0,
    until_end: Annotated[
        bool, typer.Option("--until-end", help="Exit once every file has been sent")
    ] = False,
) -> None:
    """Read the cameras and publish their frames on the bus (the edge role)."""
    from sightwire.roles.ingest import Ingest

    loaded = _load(config)
    _run(lambda: Ingest(loaded, until_end=until_end), health_port, "ingest")


def worker(
    config: ConfigPath,
    health_port: HealthPort = 0,
    member: Annotated[
        str | None, typer.Option("--member", help="Group member name (default: host-pid)")
    ] = None,
) -> None:
    """Turn the frames of this worker's partitions into events."""
    from sightwire.roles.worker import Worker

    loaded = _load(config)
    _run(lambda: Worker(loaded, member=member), health_port, "worker")


def dispatch(config: ConfigPath, health_port: HealthPort = 0) -> None:
    """Deliver the outbox's events to their actions and webhooks."""
    from sightwire.roles.dispatch import Dispatch

    loaded = _load(config)
    _run(lambda: Dispatch(loaded), health_port, "dispatch")


def _load(path: Path) -> SightwireConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def _run(make: Callable[[], _Role], health_port: int, name: str) -> None:
    """Run a role until it ends or a signal stops it; print its summary as JSON."""

    async def main() -> Any:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        role = make()
        server = None
        if health_port:
            stats = lambda: _plain(getattr(role, "stats", {}))  # noqa: E731
            server = await serve_health(health_port, lambda: role.ready, stats=stats, role=name)
        try:
            return await role.run(stop)
        finally:
            if server is not None:
                server.close()

    try:
        summary = asyncio.run(main())
    except Exception as exc:  # the bus, the store, the buffer folder, the health port
        log.debug("role failed", exc_info=True)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if summary is not None:
        typer.echo(json.dumps(_plain(summary)))


def _plain(stats: Any) -> Any:
    """A role's stats (a dataclass) as JSON-ready data."""
    if dataclasses.is_dataclass(stats) and not isinstance(stats, type):
        return dataclasses.asdict(stats)
    return stats
