"""``sightwire models``: register, inspect, promote and roll back models."""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from sightwire.config import ConfigError, load_config
from sightwire.config.models import StoreConfig
from sightwire.inference.model_file import DEFAULT_ALIAS, RegistryError

if TYPE_CHECKING:  # SQLAlchemy loads when a models command runs, not with every command
    from sightwire.inference.registry import ModelRegistry, ModelVersion

models_app = typer.Typer(help="Register models and move their aliases.", no_args_is_help=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Use this config's store (default: embedded)")
]
AliasOption = Annotated[str, typer.Option("--alias", help="The alias to move")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON")]


def open_registry(config: Path | None) -> ModelRegistry:
    """The registry in the config's database, model files beside its blobs."""
    from sightwire.inference.registry import ModelRegistry

    try:
        store = load_config(config).store if config is not None else StoreConfig()
    except ConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    return ModelRegistry(store.database, models_folder(store), tls=store.tls)


def models_folder(store: StoreConfig) -> Path:
    """Model files live in ``models/`` under a file:// blob store."""
    if not store.blobs.startswith("file://"):
        raise typer.BadParameter(
            "model files need a file:// blob store for now", param_hint="store"
        )
    return Path(store.blobs.removeprefix("file://")) / "models"


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(1)


@models_app.command("add")
def add(
    path: Annotated[Path, typer.Argument(help="The ONNX file", exists=True, dir_okay=False)],
    name: Annotated[str, typer.Option("--name", "-n", help="Model name, e.g. parcels")],
    version: Annotated[str | None, typer.Option(help="Version; default: the next number")] = None,
    task: Annotated[str | None, typer.Option(help="detect, segment, classify, anomaly")] = None,
    labels: Annotated[str | None, typer.Option(help="Comma-separated class names")] = None,
    promote: Annotated[bool, typer.Option(help="Also make it the production version")] = False,
    config: ConfigOption = None,
) -> None:
    """Register an ONNX file as NAME@VERSION (sha256, task, labels and input size recorded)."""
    registry = open_registry(config)
    try:
        added = registry.add(
            path,
            name,
            version=version,
            task=task,
            actor=_actor(),
            labels=labels.split(",") if labels else None,
        )
        if promote:
            registry.promote(name, added.version, actor=_actor())
    except (RegistryError, ValueError) as exc:
        raise _fail(exc) from None
    typer.echo(
        f"registered {added.ref} ({added.task}, {len(added.labels)} classes, "
        f"sha256 {added.sha256[:12]})" + (" as production" if promote else "")
    )


@models_app.command("list")
def list_(config: ConfigOption = None, as_json: Json = False) -> None:
    """Every registered version with its aliases."""
    registry = open_registry(config)
    versions = registry.versions()
    aliases = {name: registry.aliases(name) for name in {v.name for v in versions}}

    def aliases_of(v: ModelVersion) -> list[str]:
        return sorted(a for a, ver in aliases[v.name].items() if ver == v.version)

    if as_json:
        rows = [
            {
                "name": v.name,
                "version": v.version,
                "task": v.task,
                "aliases": aliases_of(v),
                "labels": v.labels,
                "sha256": v.sha256,
                "created_at": v.created_at,
                "created_by": v.created_by,
            }
            for v in versions
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("model", "version", "aliases", "task", "classes", "sha256", "created")
    for v in versions:
        table.add_row(
            v.name,
            v.version,
            ", ".join(aliases_of(v)),
            v.task,
            str(len(v.labels)),
            v.sha256[:12],
            _when(v.created_at),
        )
    Console().print(table)


@models_app.command("info")
def info(
    ref: Annotated[str, typer.Argument(help="NAME, NAME@ALIAS or NAME@VERSION")],
    config: ConfigOption = None,
    as_json: Json = False,
) -> None:
    """One version's details and its model's change history."""
    registry = open_registry(config)
    try:
        version = registry.resolve(ref)
    except RegistryError as exc:
        raise _fail(exc) from None
    history = [
        {
            "at": c.at,
            "action": c.action,
            "alias": c.alias,
            "from": c.from_version,
            "to": c.to_version,
            "actor": c.actor,
        }
        for c in registry.history(version.name)
    ]
    details = {
        "ref": version.ref,
        "task": version.task,
        "labels": version.labels,
        "input_size": version.input_size,
        "preprocessing": version.preprocessing,
        "sha256": version.sha256,
        "path": str(version.path),
        "aliases": registry.aliases(version.name),
        "history": history,
    }
    if as_json:
        typer.echo(json.dumps(details, indent=2))
        return
    for key in ("ref", "task", "labels", "input_size", "sha256", "path", "aliases"):
        typer.echo(f"{key:>12}: {details[key]}")
    for c in history:
        typer.echo(
            f"{_when(float(str(c['at'])))}  {c['action']:<8} {c['alias'] or '-':<10} "
            f"{c['from'] or '-'} → {c['to'] or '-'}  by {c['actor']}"
        )


@models_app.command("promote")
def promote(
    ref: Annotated[str, typer.Argument(help="NAME@VERSION to promote")],
    alias: AliasOption = DEFAULT_ALIAS,
    config: ConfigOption = None,
) -> None:
    """Point an alias (production by default) at a version; running pipelines follow."""
    name, _, version = ref.partition("@")
    if not version:
        raise typer.BadParameter("give NAME@VERSION", param_hint="REF")
    try:
        change = open_registry(config).promote(name, version, alias=alias, actor=_actor())
    except RegistryError as exc:
        raise _fail(exc) from None
    typer.echo(f"{name}@{alias}: {change.from_version or '-'} → {change.to_version}")


@models_app.command("rollback")
def rollback(
    name: Annotated[str, typer.Argument(help="The model")],
    alias: AliasOption = DEFAULT_ALIAS,
    config: ConfigOption = None,
) -> None:
    """Point an alias back at the version it had before its latest promotion."""
    try:
        change = open_registry(config).rollback(name, alias=alias, actor=_actor())
    except RegistryError as exc:
        raise _fail(exc) from None
    typer.echo(f"{name}@{alias}: {change.from_version} → {change.to_version} (rolled back)")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at))
