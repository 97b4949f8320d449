"""``POST /api/v1/cameras/{camera}/frames``: pictures from drones and phones into a
camera's pipeline (a camera with ``source: upload``).

One or more JPEG, PNG or WebP files as ``multipart/form-data``, each in a part
named ``files``. The whole batch is checked before any picture goes in.

>>> # curl -H "Authorization: Bearer $KEY" -F files=@a.jpg -F files=@b.png \\
>>> #      https://sightwire:8443/api/v1/cameras/drone-1/frames
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel, Field

from sightwire.api.auth import Operator, check_camera
from sightwire.api.context import ApiContext, context
from sightwire.api.drawing import UnreadableImageError, decode_jpeg
from sightwire.api.images import dimensions, sniff
from sightwire.api.problems import ApiError, errors
from sightwire.api.routes.cameras import CameraName
from sightwire.core.frame import Image
from sightwire.runtime.live import UploadRefusedError
from sightwire.sources.base import SourceError
from sightwire.sources.upload import is_upload

router = APIRouter(prefix="/api/v1/cameras", tags=["uploads"])
Ctx = Annotated[ApiContext, Depends(context)]


class UploadedFrame(BaseModel):
    """One picture taken into the pipeline."""

    seq: int = Field(description="Its frame number on the camera")
    format: str = Field(description="jpeg, png or webp")
    width: int
    height: int


class UploadOut(BaseModel):
    """What was queued for the camera's pipeline."""

    camera: str
    frames: list[UploadedFrame]


@router.post(
    "/{camera}/frames",
    status_code=202,
    response_model=UploadOut,
    responses=errors(401, 403, 404, 409, 413, 415, 429, 503),
)
def upload_frames(
    ctx: Ctx,
    caller: Operator,
    camera: CameraName,
    files: Annotated[list[UploadFile], File(description="JPEG, PNG or WebP pictures")],
    captured_at: Annotated[
        float | None, Form(ge=0, le=1e11, description="When taken, epoch seconds (default: now)")
    ] = None,
) -> UploadOut:
    """Queue pictures into ``camera``'s pipeline, in order; 202 once they are queued."""
    check_camera(caller, camera)
    config = ctx.config.cameras.get(camera)
    if config is None:
        raise ApiError(404, f"no camera {camera!r}")
    if not is_upload(config.source):
        raise ApiError(409, f"camera {camera!r} is not an upload camera (source: upload)")
    limits = ctx.config.api
    if len(files) > limits.max_upload_files:
        raise ApiError(413, f"at most {limits.max_upload_files} pictures per upload")
    wait = ctx.upload_limiter.take(caller.subject, len(files))
    if wait > 0:
        retry = str(max(1, math.ceil(wait)))
        raise ApiError(429, "upload rate limit reached", headers={"Retry-After": retry})
    checked = [_checked(file, limits.max_image_pixels) for file in files]
    frames = [_queue(ctx, camera, image, kind, captured_at) for kind, image in checked]
    ctx.audit.record(caller.subject, "frame.upload", camera, {"frames": len(frames)})
    return UploadOut(camera=camera, frames=frames)


def _checked(file: UploadFile, max_pixels: int) -> tuple[str, Image]:
    """The format and decoded picture of one part; 415 / 422 when it is not a usable one."""
    data = file.file.read()
    kind = sniff(data)
    name = file.filename or "upload"
    if kind is None:
        raise ApiError(415, f"{name}: not a JPEG, PNG or WebP picture")
    size = dimensions(data)
    if size is None:
        raise ApiError(422, f"{name}: the {kind} header is broken")
    if size[0] * size[1] > max_pixels or 0 in size:
        raise ApiError(422, f"{name}: {size[0]}x{size[1]} is not a size this server takes")
    try:
        return kind, decode_jpeg(data)
    except UnreadableImageError:
        raise ApiError(422, f"{name}: the {kind} data cannot be decoded") from None


def _queue(
    ctx: ApiContext, camera: str, image: Image, kind: str, captured_at: float | None
) -> UploadedFrame:
    if ctx.live is None:
        raise ApiError(503, "pipelines are not running in this server")
    try:
        frame = ctx.live.upload(camera, image, captured_at)
    except UploadRefusedError as exc:
        raise ApiError(exc.status, str(exc)) from None
    except SourceError as exc:  # the pipeline is behind: its queue stayed full
        raise ApiError(503, str(exc), headers={"Retry-After": "1"}) from None
    height, width = image.shape[:2]
    return UploadedFrame(seq=frame.seq, format=kind, width=width, height=height)
