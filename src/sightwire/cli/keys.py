"""``sightwire keys create|list|revoke``: API keys of a config's database.

Examples::

    sightwire keys create site.yaml --name erp --role operator --camera belt-1
    sightwire keys list site.yaml --json
    sightwire keys revoke site.yaml 01JD5Z3YV8N6Q2W8B1C4F7H9KM

The secret is printed once, by ``create``; only its hash is stored. Creation and
revocation are recorded in the audit trail as ``cli:<os user>``.
"""

from __future__ import annotations

import getpass
import json
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from sightwire.security.principal import Role

if TYPE_CHECKING:  # SQLAlchemy loads when a keys command runs, not with every command
    from sightwire.security.keys import ApiKeyInfo, ApiKeyStore
    from sightwire.storage.database import Database

keys_app = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)

ConfigArg = Annotated[Path, typer.Argument(help="The site config (its store: database)")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON")]


def open_database_of(config: Path) -> Database:
    """The config's database, migrated; exit 1 with the reason when it cannot be opened."""
    from sightwire.config import ConfigError, load_config
    from sightwire.storage.database import DatabaseError, open_database

    try:
        store = load_config(config).store
        return open_database(store.database, migrate=True, tls=store.tls)
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except (DatabaseError, ValueError) as exc:
        raise fail(exc) from None


def cli_actor() -> str:
    """``cli:<os user>``: who ran the command, for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


def _store(config: Path) -> ApiKeyStore:
    from sightwire.security.audit import AuditTrail
    from sightwire.security.keys import ApiKeyStore

    db = open_database_of(config)
    return ApiKeyStore(db, audit=AuditTrail(db))


@keys_app.command("create")
def create(
    config: ConfigArg,
    name: Annotated[str, typer.Option("--name", "-n", help="What the key is for, e.g. erp")],
    role: Annotated[Role, typer.Option("--role", "-r", help="viewer, operator or admin")],
    camera: Annotated[
        list[str] | None,
        typer.Option("--camera", help="Limit the key to this camera (repeat); default: all"),
    ] = None,
    expires_in_days: Annotated[
        float | None, typer.Option(min=0.001, help="Expire after this many days")
    ] = None,
    as_json: Json = False,
) -> None:
    """Create a key and print its secret, once."""
    store = _store(config)
    expires_at = None if expires_in_days is None else time.time() + expires_in_days * 86400
    try:
        cameras = frozenset(camera) if camera else None
        issued = store.create(name, role, cameras, cli_actor(), expires_at)
    except ValueError as exc:
        raise fail(exc) from None
    if as_json:
        typer.echo(json.dumps({**issued.info.to_dict(), "secret": issued.secret}, indent=2))
        return
    info = issued.info
    # Only the secret on stdout, so `SECRET=$(sightwire keys create ...)` captures it.
    typer.echo(f"created key {info.id} {info.name!r}: {_scope(info)}", err=True)
    typer.echo("secret (shown once, store it now):", err=True)
    typer.echo(issued.secret)


@keys_app.command("list")
def list_(config: ConfigArg, as_json: Json = False) -> None:
    """Every key (never a secret): role, cameras, who made it, state."""
    keys = _store(config).list()
    if as_json:
        typer.echo(json.dumps([k.to_dict() for k in keys], indent=2))
        return
    table = Table()
    for column in ("id", "name", "role", "cameras", "created", "by", "expires", "state"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for k in keys:
        cameras = "all" if k.cameras is None else ", ".join(sorted(k.cameras))
        table.add_row(
            k.id,
            k.name,
            k.role.value,
            cameras,
            _when(k.created_at),
            k.created_by,
            _when(k.expires_at),
            _state(k),
        )
    Console().print(table)


@keys_app.command("revoke")
def revoke(
    config: ConfigArg,
    key_id: Annotated[str, typer.Argument(help="The key's id (from `keys list`)")],
) -> None:
    """Revoke a key: refused at once by this host, by every server within seconds."""
    try:
        info = _store(config).revoke(key_id, by=cli_actor())
    except LookupError as exc:
        raise fail(exc) from None
    typer.echo(f"revoked key {info.id} {info.name!r} (by {info.revoked_by})")


def _scope(info: ApiKeyInfo) -> str:
    cameras = "every camera" if info.cameras is None else ", ".join(sorted(info.cameras))
    expiry = "" if info.expires_at is None else f", expires {_when(info.expires_at)}"
    return f"{info.role.value}, {cameras}{expiry}"


def _state(info: ApiKeyInfo) -> str:
    if info.revoked_at is not None:
        return f"revoked {_when(info.revoked_at)} by {info.revoked_by}"
    return "active" if info.active() else "expired"


def _when(at: float | None) -> str:
    return "-" if at is None else datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M")
