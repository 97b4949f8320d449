"""``/api/v1/models``: registered model versions and aliases; promote and roll back.

Running pipelines follow an alias within seconds (they poll the registry).

>>> # GET  /api/v1/models
>>> # POST /api/v1/models/parcels/promote    {"version": "3"}
>>> # POST /api/v1/models/parcels/rollback   {}
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from sightwire.api.auth import Admin, Viewer
from sightwire.api.context import ApiContext, context
from sightwire.api.problems import ApiError, errors
from sightwire.inference.model_file import DEFAULT_ALIAS, RegistryError
from sightwire.inference.registry import ModelChange, ModelVersion

router = APIRouter(prefix="/api/v1/models", tags=["models"])
Ctx = Annotated[ApiContext, Depends(context)]
Label = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=32)]
ModelName = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64, description="Model name")
]


class VersionOut(BaseModel):
    """One registered file of a model."""

    version: str
    sha256: str
    task: str
    labels: list[str]
    input_size: tuple[int, int] | None
    created_at: float
    created_by: str
    aliases: list[str] = Field(description="Aliases pointing at this version")


class ChangeOut(BaseModel):
    """One recorded change: a version added, or an alias moved."""

    at: float
    alias: str | None
    action: str
    from_version: str | None
    to_version: str | None
    actor: str


class ModelOut(BaseModel):
    """A model: its versions, aliases (alias → version) and history."""

    name: str
    aliases: dict[str, str]
    versions: list[VersionOut]
    history: list[ChangeOut]


class PromoteRequest(BaseModel):
    version: Label
    alias: Label = DEFAULT_ALIAS


class RollbackRequest(BaseModel):
    alias: Label = DEFAULT_ALIAS


def _model(ctx: ApiContext, name: str, versions: list[ModelVersion]) -> ModelOut:
    registry = ctx.registry
    aliases = registry.aliases(name)
    return ModelOut(
        name=name,
        aliases=aliases,
        versions=[
            VersionOut(
                version=v.version,
                sha256=v.sha256,
                task=v.task,
                labels=v.labels,
                input_size=v.input_size,
                created_at=v.created_at,
                created_by=v.created_by,
                aliases=sorted(a for a, target in aliases.items() if target == v.version),
            )
            for v in versions
        ],
        history=[_change(c) for c in registry.history(name)],
    )


def _change(change: ModelChange) -> ChangeOut:
    return ChangeOut(
        at=change.at,
        alias=change.alias,
        action=change.action,
        from_version=change.from_version,
        to_version=change.to_version,
        actor=change.actor,
    )


@router.get("", response_model=list[ModelOut], responses=errors(401, 403))
def list_models(ctx: Ctx, caller: Viewer) -> list[ModelOut]:
    """Every registered model."""
    by_name: dict[str, list[ModelVersion]] = {}
    for version in ctx.registry.versions():
        by_name.setdefault(version.name, []).append(version)
    return [_model(ctx, name, versions) for name, versions in sorted(by_name.items())]


@router.get("/{name}", response_model=ModelOut, responses=errors(401, 403, 404))
def get_model(ctx: Ctx, caller: Viewer, name: ModelName) -> ModelOut:
    """One model."""
    versions = ctx.registry.versions(name)
    if not versions:
        raise ApiError(404, f"no model {name!r}")
    return _model(ctx, name, versions)


@router.post("/{name}/promote", response_model=ChangeOut, responses=errors(401, 403, 404))
def promote(ctx: Ctx, caller: Admin, name: ModelName, body: PromoteRequest) -> ChangeOut:
    """Point an alias (default ``production``) at a version; audited."""
    try:
        change = ctx.registry.promote(name, body.version, alias=body.alias, actor=caller.subject)
    except RegistryError as exc:
        raise ApiError(404, str(exc)) from None
    detail = {"alias": body.alias, "from": change.from_version, "to": change.to_version}
    ctx.audit.record(caller.subject, "model.promote", f"{name}@{body.alias}", detail)
    return _change(change)


@router.post("/{name}/rollback", response_model=ChangeOut, responses=errors(401, 403, 404, 409))
def rollback(ctx: Ctx, caller: Admin, name: ModelName, body: RollbackRequest) -> ChangeOut:
    """Point an alias back at the version it had before its latest promotion; audited."""
    if not ctx.registry.versions(name):
        raise ApiError(404, f"no model {name!r}")
    try:
        change = ctx.registry.rollback(name, alias=body.alias, actor=caller.subject)
    except RegistryError as exc:
        raise ApiError(409, str(exc)) from None
    detail = {"alias": body.alias, "from": change.from_version, "to": change.to_version}
    ctx.audit.record(caller.subject, "model.rollback", f"{name}@{body.alias}", detail)
    return _change(change)
