"""The model registry: ONNX files as NAME@VERSION, with aliases and a change log.

Configs name ``model: NAME`` (the ``production`` alias), ``NAME@ALIAS`` or
``NAME@VERSION``. Promotion and rollback move an alias; every move is recorded
with who made it and when, and running pipelines follow it without a restart
(see :mod:`sightwire.inference.live_model`).

>>> # registry = ModelRegistry("sqlite:///data/sightwire.db", Path("data/models"))
>>> # v = registry.add(Path("parcels.onnx"), "parcels")        # version "1"
>>> # registry.promote("parcels", v.version, actor="ana")
>>> # registry.resolve("parcels").path                           # the production file
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, RowMapping

from sightwire.config.security import ClientTlsConfig
from sightwire.inference.model_file import DEFAULT_ALIAS, RegistryError, inspect_onnx, sha256_of

__all__ = ["DEFAULT_ALIAS", "ModelChange", "ModelRegistry", "ModelVersion", "RegistryError"]

metadata = MetaData()

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("task", String(16), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("input_size", JSON),
    Column("preprocessing", JSON, nullable=False),
    Column("path", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("created_by", String(128), nullable=False),
)
model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("alias", String(32), primary_key=True),
    Column("version", String(32), nullable=False),
    Column("updated_at", Float, nullable=False),
)
model_changes = Table(
    "model_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("name", String(64), nullable=False, index=True),
    Column("alias", String(32)),
    Column("action", String(16), nullable=False),  # add, promote, rollback
    Column("from_version", String(32)),
    Column("to_version", String(32)),
    Column("actor", String(128), nullable=False),
)


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """One registered model file."""

    name: str
    version: str
    sha256: str
    task: str
    labels: list[str]
    input_size: tuple[int, int] | None
    preprocessing: dict[str, Any]
    path: Path
    created_at: float
    created_by: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def verify(self) -> None:
        """Raise RegistryError when the stored file is missing or was changed."""
        if not self.path.is_file():
            raise RegistryError(f"{self.ref}: model file {self.path} is missing")
        if sha256_of(self.path) != self.sha256:
            raise RegistryError(f"{self.ref}: {self.path} no longer matches its sha256")


@dataclass(frozen=True, slots=True)
class ModelChange:
    """One recorded change: a version added, or an alias moved."""

    at: float
    name: str
    alias: str | None
    action: str
    from_version: str | None
    to_version: str | None
    actor: str


class ModelRegistry:
    """Model versions, aliases and their history in the Sightwire database."""

    def __init__(
        self, database_url: str, models_dir: Path, *, tls: ClientTlsConfig | None = None
    ) -> None:
        self.models_dir = models_dir
        self.engine: Engine = _engine(database_url, tls)
        metadata.create_all(self.engine)

    def add(
        self,
        source: Path,
        name: str,
        *,
        version: str | None = None,
        task: str | None = None,
        labels: list[str] | None = None,
        preprocessing: dict[str, Any] | None = None,
        actor: str = "cli",
    ) -> ModelVersion:
        """Copy ``source`` into the registry as ``name`` (next version unless given)."""
        info = inspect_onnx(source)
        digest = sha256_of(source)
        with self.engine.begin() as db:
            rows = db.execute(select(model_versions).where(model_versions.c.name == name)).all()
            for row in rows:
                if row.sha256 == digest:
                    raise RegistryError(f"{source} is already registered as {name}@{row.version}")
            version = version or str(1 + max((_as_int(r.version) for r in rows), default=0))
            if any(r.version == version for r in rows):
                raise RegistryError(f"{name}@{version} exists already")
            target = self.models_dir / name / f"{version}.onnx"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            values = {
                "name": name,
                "version": version,
                "sha256": digest,
                "task": task or info.task or "detect",
                "labels": labels or info.labels,
                "input_size": list(info.input_size) if info.input_size else None,
                "preprocessing": preprocessing or {"letterbox": True, "color": "rgb", "scale": 255},
                "path": str(target),
                "created_at": time.time(),
                "created_by": actor,
            }
            db.execute(insert(model_versions).values(values))
            _record(db, name, None, "add", None, version, actor)
        return self.get(name, version)

    def get(self, name: str, version: str) -> ModelVersion:
        """One version; RegistryError when unknown."""
        with self.engine.connect() as db:
            row = db.execute(
                select(model_versions).where(
                    (model_versions.c.name == name) & (model_versions.c.version == version)
                )
            ).first()
        if row is None:
            raise RegistryError(f"no model {name}@{version}")
        return _version(row._mapping)

    def versions(self, name: str | None = None) -> list[ModelVersion]:
        """Every version (of one model, or of all), oldest first."""
        query = select(model_versions).order_by(model_versions.c.name, model_versions.c.created_at)
        if name is not None:
            query = query.where(model_versions.c.name == name)
        with self.engine.connect() as db:
            return [_version(r._mapping) for r in db.execute(query)]

    def aliases(self, name: str) -> dict[str, str]:
        """Alias → version of one model."""
        with self.engine.connect() as db:
            rows = db.execute(select(model_aliases).where(model_aliases.c.name == name))
            return {r.alias: r.version for r in rows}

    def alias_version(self, name: str, alias: str = DEFAULT_ALIAS) -> str | None:
        """The version an alias points at now (a cheap query, polled by pipelines)."""
        return self.aliases(name).get(alias)

    def resolve(self, ref: str) -> ModelVersion:
        """``NAME`` (production alias), ``NAME@ALIAS`` or ``NAME@VERSION``."""
        name, _, which = ref.partition("@")
        which = which or DEFAULT_ALIAS
        aliased = self.alias_version(name, which)
        if aliased is not None:
            return self.get(name, aliased)
        if which == DEFAULT_ALIAS and not _has_versions(self, name):
            raise RegistryError(f"no model named {name!r} in the registry")
        if which == DEFAULT_ALIAS:
            raise RegistryError(f"{name!r} has no {DEFAULT_ALIAS} version yet: promote one")
        return self.get(name, which)

    def promote(
        self, name: str, version: str, *, alias: str = DEFAULT_ALIAS, actor: str = "cli"
    ) -> ModelChange:
        """Point ``alias`` at ``version``; recorded."""
        self.get(name, version)
        return self._move(name, alias, version, "promote", actor)

    def rollback(self, name: str, *, alias: str = DEFAULT_ALIAS, actor: str = "cli") -> ModelChange:
        """Point ``alias`` back at the version it had before its latest promotion."""
        current = self.alias_version(name, alias)
        if current is None:
            raise RegistryError(f"{name}@{alias} is not set: nothing to roll back")
        for change in reversed(self.history(name)):
            promoted_current = change.action == "promote" and change.to_version == current
            if change.alias == alias and promoted_current and change.from_version is not None:
                return self._move(name, alias, change.from_version, "rollback", actor)
        raise RegistryError(f"{name}@{alias} has no earlier version to roll back to")

    def history(self, name: str) -> list[ModelChange]:
        """Every recorded change of a model, oldest first."""
        query = select(model_changes).where(model_changes.c.name == name)
        with self.engine.connect() as db:
            rows = db.execute(query.order_by(model_changes.c.id)).all()
        return [
            ModelChange(r.at, r.name, r.alias, r.action, r.from_version, r.to_version, r.actor)
            for r in rows
        ]

    def _move(self, name: str, alias: str, version: str, action: str, actor: str) -> ModelChange:
        now = time.time()
        with self.engine.begin() as db:
            where = (model_aliases.c.name == name) & (model_aliases.c.alias == alias)
            previous = db.execute(select(model_aliases.c.version).where(where)).scalar()
            if previous is None:
                db.execute(
                    insert(model_aliases).values(
                        name=name, alias=alias, version=version, updated_at=now
                    )
                )
            else:
                db.execute(
                    update(model_aliases).where(where).values(version=version, updated_at=now)
                )
            _record(db, name, alias, action, previous, version, actor)
        return ModelChange(now, name, alias, action, previous, version, actor)


def _engine(url: str, tls: ClientTlsConfig | None) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if tls is None:
        return create_engine(url)
    from sightwire.security.tls import libpq_ssl_args  # PostgreSQL over TLS only

    return create_engine(url, connect_args=libpq_ssl_args(tls))


def _record(
    db: Any, name: str, alias: str | None, action: str, old: str | None, new: str | None, actor: str
) -> None:
    db.execute(
        insert(model_changes).values(
            at=time.time(),
            name=name,
            alias=alias,
            action=action,
            from_version=old,
            to_version=new,
            actor=actor,
        )
    )


def _version(row: RowMapping) -> ModelVersion:
    size = row["input_size"]
    return ModelVersion(
        name=row["name"],
        version=row["version"],
        sha256=row["sha256"],
        task=row["task"],
        labels=list(row["labels"]),
        input_size=(int(size[0]), int(size[1])) if size else None,
        preprocessing=dict(row["preprocessing"]),
        path=Path(row["path"]),
        created_at=row["created_at"],
        created_by=row["created_by"],
    )


def _has_versions(registry: ModelRegistry, name: str) -> bool:
    return bool(registry.versions(name))


def _as_int(version: str) -> int:
    return int(version) if version.isdigit() else 0
