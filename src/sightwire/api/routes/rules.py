"""``/api/v1/rules``: the rules of the running config, each with its full config.

>>> # GET /api/v1/rules
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from sightwire.api.auth import Viewer
from sightwire.api.context import ApiContext, context
from sightwire.api.problems import errors

router = APIRouter(prefix="/api/v1/rules", tags=["rules"])
Ctx = Annotated[ApiContext, Depends(context)]


class RuleOut(BaseModel):
    """A rule: its name, camera (null: every camera), severity, actions and config."""

    name: str
    camera: str | None
    severity: str
    actions: list[str]
    config: dict[str, Any] = Field(description="The rule as configured (YAML keys)")


@router.get("", response_model=list[RuleOut], responses=errors(401, 403))
def list_rules(ctx: Ctx, caller: Viewer) -> list[RuleOut]:
    """The rules; a camera-scoped caller sees those of its cameras and the shared ones."""
    shown = []
    for rule in ctx.config.rules:
        camera = rule.on.camera
        if camera is not None and not caller.sees(camera):
            continue
        config = rule.model_dump(mode="json", by_alias=True, exclude_none=True)
        shown.append(
            RuleOut(
                name=rule.name,
                camera=camera,
                severity=rule.severity,
                actions=list(rule.actions),
                config=config,
            )
        )
    return shown
