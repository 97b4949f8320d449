"""Config of what events set off: ``actions:`` and ``webhooks:``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from sightwire.config.base import StrictModel


class HttpAction(StrictModel):
    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] | None = None
    timeout_s: float = Field(5.0, gt=0, le=120)


class FileAction(StrictModel):
    type: Literal["file"]
    path: str = Field(description="JSON-lines file to append events to")


ActionConfig = Annotated[HttpAction | FileAction, Field(discriminator="type")]


class WebhookConfig(StrictModel):
    url: str
    secret: str = Field(description="Standard Webhooks secret; use ${VAR}, never a literal")
    types: list[str] = Field(default_factory=lambda: ["com.sightwire.*"])
