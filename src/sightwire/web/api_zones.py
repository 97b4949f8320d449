"""``/api/v1/cameras/{camera}/zones``: a camera's zones and lines, read and replaced.

Replacing them (admin role) validates the whole config with the new shapes, rewrites
the config file in place (comments and layout kept, see
:mod:`sightwire.web.config_edit`), then hands the shapes to the running pipeline, so
rules on zones and lines use them from the next frame on, without a restart.

>>> # GET /api/v1/cameras/belt-1/zones
>>> # PUT /api/v1/cameras/belt-1/zones  {"zones": {"belt": [[0,0],[9,0],[9,9]]}, "lines": {}}
"""

from __future__ import annotations

import threading
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from sightwire.api.auth import Admin, Viewer, check_camera
from sightwire.api.context import ApiContext, context
from sightwire.api.problems import ApiError, errors
from sightwire.config.base import Line, Name, Polygon
from sightwire.config.loader import ConfigError
from sightwire.config.models import CameraConfig
from sightwire.security.principal import Principal
from sightwire.web.config_edit import ConfigEditError, rewrite_shapes

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])
Ctx = Annotated[ApiContext, Depends(context)]
CameraName = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64, description="Camera name")
]
MAX_SHAPES = 100
_write_lock = threading.Lock()  # one edit of the config file at a time


class Shapes(BaseModel):
    """A camera's zones (polygons) and lines, in the camera's frame pixels."""

    zones: dict[Name, Polygon] = Field(default_factory=dict, max_length=MAX_SHAPES)
    lines: dict[Name, Line] = Field(default_factory=dict, max_length=MAX_SHAPES)


class CameraShapes(Shapes):
    """What a camera has now, and whether this server can change it."""

    camera: str
    editable: bool = Field(description="The server knows its config file and can rewrite it")


class ShapesSaved(Shapes):
    """The shapes as saved, and whether the running pipeline took them."""

    camera: str
    applied: bool = Field(description="The running pipeline uses them now (false: no pipelines)")


def config_file(request: Request, ctx: ApiContext) -> FilePath | None:
    """The config file ``sightwire serve`` loaded (None when the app was built without)."""
    path = ctx.config_path or getattr(request.app.state, "config_path", None)
    return FilePath(path) if path is not None else None


def _camera(ctx: ApiContext, caller: Principal, camera: str) -> CameraConfig:
    check_camera(caller, camera)
    config = ctx.config.cameras.get(camera)
    if config is None:
        raise ApiError(404, f"no camera {camera!r}")
    return config


@router.get("/{camera}/zones", response_model=CameraShapes, responses=errors(401, 403, 404))
def get_zones(request: Request, ctx: Ctx, caller: Viewer, camera: CameraName) -> CameraShapes:
    """The camera's zones and lines as the running config has them."""
    config = _camera(ctx, caller, camera)
    return CameraShapes(
        camera=camera,
        zones=config.zones,
        lines=config.lines,
        editable=config_file(request, ctx) is not None,
    )


@router.put(
    "/{camera}/zones", response_model=ShapesSaved, responses=errors(401, 403, 404, 409, 422)
)
def put_zones(
    request: Request, ctx: Ctx, caller: Admin, camera: CameraName, body: Shapes
) -> ShapesSaved:
    """Replace the camera's zones and lines: validated, saved to the config file, applied.

    422 lists each problem (e.g. a rule's zone that no longer exists) and changes nothing.
    """
    _camera(ctx, caller, camera)
    path = config_file(request, ctx)
    if path is None:
        raise ApiError(409, "this server was started without a config file to save to")
    with _write_lock:
        try:
            saved = rewrite_shapes(path, camera, body.zones, body.lines).cameras[camera]
        except ConfigError as exc:
            problems = [{"path": i.path, "line": i.line, "message": i.message} for i in exc.issues]
            raise ApiError(422, "the config would not be valid", errors=problems) from None
        except (ConfigEditError, OSError) as exc:
            raise ApiError(409, f"the config file cannot be edited: {exc}") from None
        applied = _apply(ctx, camera, saved)
    detail = {"zones": sorted(body.zones), "lines": sorted(body.lines), "applied": applied}
    ctx.audit.record(caller.subject, "zone.change", camera, detail)
    return ShapesSaved(camera=camera, zones=saved.zones, lines=saved.lines, applied=applied)


def _apply(ctx: ApiContext, camera: str, saved: CameraConfig) -> bool:
    """The API's config and, when pipelines run here, the pipeline take the new shapes."""
    shapes = {"zones": saved.zones, "lines": saved.lines}
    ctx.config.cameras[camera] = ctx.config.cameras[camera].model_copy(update=shapes)
    runner = ctx.live.runner if ctx.live is not None else None
    if runner is None:
        return False
    runner.apply_zones(camera, saved)
    return True
