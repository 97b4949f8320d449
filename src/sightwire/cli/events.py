"""``sightwire events list|show|replay|prune`` and ``sightwire db upgrade``.

Examples::

    sightwire events list --type parcel.* --camera belt-1 --since 2h
    sightwire events show 01JD5Z3YV8N6Q2W8B1C4F7H9KM --json
    sightwire events replay --dead                 # every dead letter, again
    sightwire events replay --since 2026-11-27T09:00 --until 2026-11-27T10:00
    sightwire events prune --older-than 30d       # retention: delivered events and blobs
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from sightwire.config import ConfigError, load_config
from sightwire.config.models import StoreConfig
from sightwire.core.event import TYPE_PREFIX, Event, Severity
from sightwire.events.query import InvalidCursorError
from sightwire.events.store import Delivery, EventStore
from sightwire.storage.database import DatabaseError, open_database

events_app = typer.Typer(
    help="Recorded events, their deliveries, and replays.", no_args_is_help=True
)
db_app = typer.Typer(help="The Sightwire database.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Use this config's store (default: embedded)")
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON")]
When = Annotated[
    str | None,
    typer.Option(help="ISO 8601 time (local unless it has an offset or Z), or an age: 30m, 2h, 1d"),
]
_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SEVERITIES = ("debug", "info", "warning", "error", "critical")


def store_config(config: Path | None) -> StoreConfig:
    """The config's ``store:``, or the embedded default; exit 1 on a bad config."""
    try:
        return load_config(config).store if config is not None else StoreConfig()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


def open_store(config: Path | None) -> EventStore:
    """The event store a config names, migrated to the current schema."""
    try:
        return EventStore.open(store_config(config))
    except (DatabaseError, ValueError) as exc:
        raise _fail(exc) from None


def parse_when(value: str | None, option: str, now: float | None = None) -> float | None:
    """Epoch seconds of ``--since``/``--until``: ISO 8601 or an age such as ``2h``.

    >>> parse_when("90s", "--since", now=1000.0)
    910.0
    >>> parse_when("2026-11-27T10:00:00Z", "--since")
    1795773600.0
    """
    if value is None:
        return None
    age = _AGE.match(value.strip())
    if age:
        return (time.time() if now is None else now) - float(age[1]) * _SECONDS[age[2]]
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise typer.BadParameter(
            "give an ISO 8601 time (2026-11-27T10:00) or an age (30m, 2h, 1d)", param_hint=option
        ) from None


@events_app.command("list")
def list_(
    type_: Annotated[
        str | None, typer.Option("--type", help="Event type, e.g. parcel.mismatch or parcel.*")
    ] = None,
    camera: Annotated[str | None, typer.Option(help="Only this camera")] = None,
    severity: Annotated[
        str | None, typer.Option(help="This severity and above: debug … critical")
    ] = None,
    since: When = None,
    until: When = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Events per page")] = 20,
    cursor: Annotated[str | None, typer.Option(help="Continue from an earlier page")] = None,
    oldest_first: Annotated[bool, typer.Option(help="Oldest first (default: newest)")] = False,
    config: ConfigOption = None,
    as_json: Json = False,
) -> None:
    """Recorded events, newest first, a page at a time."""
    if severity is not None and severity not in SEVERITIES:
        raise typer.BadParameter(f"one of {', '.join(SEVERITIES)}", param_hint="--severity")
    wanted_type = type_ if type_ is None or type_.startswith(TYPE_PREFIX) else TYPE_PREFIX + type_
    store = open_store(config)
    try:
        page = store.query(
            type=wanted_type,
            camera=camera,
            min_severity=_severity(severity),
            since=parse_when(since, "--since"),
            until=parse_when(until, "--until"),
            limit=limit,
            cursor=cursor,
            oldest_first=oldest_first,
        )
    except (InvalidCursorError, ValueError) as exc:
        raise _fail(exc) from None
    if as_json:
        rows = [e.model_dump(mode="json", exclude_none=True) for e in page.events]
        typer.echo(json.dumps({"events": rows, "next_cursor": page.next_cursor}, indent=2))
        return
    table = Table()
    for column in ("time (UTC)", "type", "camera", "severity"):
        table.add_column(column, overflow="fold")
    table.add_column("id", no_wrap=True, min_width=26)
    for e in page.events:
        when = e.time[:19].replace("T", " ")
        short = e.type.removeprefix(TYPE_PREFIX)
        table.add_row(when, short, e.data.camera, e.data.severity, e.id)
    Console().print(table)
    if page.next_cursor:
        typer.echo(f"more: --cursor {page.next_cursor}")


@events_app.command("show")
def show(
    event_id: Annotated[str, typer.Argument(help="The event's id")],
    config: ConfigOption = None,
    as_json: Json = False,
) -> None:
    """One event (its CloudEvent) and each delivery with its attempt log."""
    store = open_store(config)
    event = store.get(event_id)
    if event is None:
        raise _fail(LookupError(f"no event {event_id}"))
    found = store.deliveries(event_id)
    if as_json:
        details = {
            "event": event.model_dump(mode="json", exclude_none=True),
            "deliveries": [_delivery_json(d) for d in found],
        }
        typer.echo(json.dumps(details, indent=2))
        return
    typer.echo(event.model_dump_json(indent=2, exclude_none=True))
    _print_deliveries(event, found)


@events_app.command("replay")
def replay(
    event_ids: Annotated[list[str] | None, typer.Argument(help="Events to deliver again")] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Dead letters only")] = False,
    since: When = None,
    until: When = None,
    destination: Annotated[str | None, typer.Option(help="Only this destination")] = None,
    config: ConfigOption = None,
    as_json: Json = False,
) -> None:
    """Queue deliveries again (dead, or delivered too); a running dispatcher sends them."""
    store = open_store(config)
    try:
        count = store.replay(
            event_ids or [],
            dead=dead,
            since=parse_when(since, "--since"),
            until=parse_when(until, "--until"),
            destination=destination,
        )
    except ValueError as exc:
        raise _fail(exc) from None
    if as_json:
        typer.echo(json.dumps({"requeued": count}))
    else:
        typer.echo(f"re-queued {count} deliver{'y' if count == 1 else 'ies'}")


@events_app.command("prune")
def prune(
    older_than: Annotated[
        str, typer.Option(help="Delete events emitted longer ago than this age: 30d, 12h")
    ],
    config: ConfigOption = None,
    as_json: Json = False,
) -> None:
    """Delete old events that owe no delivery, with their logs, snapshots and clips."""
    if not _AGE.match(older_than.strip()):
        raise typer.BadParameter("give an age such as 30d or 12h", param_hint="--older-than")
    before = parse_when(older_than, "--older-than")
    assert before is not None
    pruned = open_store(config).prune(before)
    if as_json:
        typer.echo(json.dumps({"events": pruned.events, "blobs": pruned.blobs}))
    else:
        typer.echo(f"deleted {pruned.events} events and {pruned.blobs} blobs")


@db_app.command("upgrade")
def upgrade(config: ConfigOption = None) -> None:
    """Create or migrate the database's tables to this version of Sightwire."""
    from sightwire.storage.migrate import upgrade_database  # Alembic only when needed

    store = store_config(config)
    try:
        db = open_database(store.database, tls=store.tls)
        revision = upgrade_database(db)
    except DatabaseError as exc:
        raise _fail(exc) from None
    typer.echo(f"{db.url}: schema at revision {revision}")
    db.close()


def _print_deliveries(event: Event, found: list[Delivery]) -> None:
    table = Table("destination", "state", "attempt")
    table.add_column("at (local)", no_wrap=True, min_width=12)
    for column in ("status", "ms", "error"):
        table.add_column(column, overflow="fold")
    for d in found:
        if not d.log:
            table.add_row(d.destination, d.state, "-", "-", "-", "-", "")
        for n, a in enumerate(d.log):
            at = datetime.fromtimestamp(a.at).strftime("%H:%M:%S.%f")[:-3]
            code = str(a.status_code) if a.status_code is not None else "-"
            first = n == 0
            table.add_row(
                d.destination if first else "",
                d.state if first else "",
                str(a.attempt),
                at,
                code,
                f"{a.latency_ms:.1f}",
                a.error or "",
            )
    Console().print(table)


def _delivery_json(d: Delivery) -> dict[str, Any]:
    return {
        "destination": d.destination,
        "state": d.state,
        "attempts": d.attempts,
        "replays": d.replays,
        "next_attempt_at": d.next_attempt_at,
        "delivered_at": d.delivered_at,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "log": [
            {
                "attempt": a.attempt,
                "at": a.at,
                "ok": a.ok,
                "status_code": a.status_code,
                "latency_ms": a.latency_ms,
                "error": a.error,
                "dispatcher": a.dispatcher,
            }
            for a in d.log
        ],
    }


def _severity(value: str | None) -> Severity | None:
    return value if value in SEVERITIES else None  # type: ignore[return-value]


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)
