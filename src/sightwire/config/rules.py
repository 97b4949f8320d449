"""Config of rules and the lookups they make: ``rules:`` and ``lookups:``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sightwire.config.base import Name, StrictModel


class LookupConfig(StrictModel):
    url: str = Field(description="Templated URL, e.g. ${WMS_URL}/parcels/{tracking_number}")
    method: Literal["GET"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    cache_s: float = Field(0, ge=0)
    timeout_s: float = Field(2.0, gt=0, le=60)


class TriggerConfig(StrictModel):
    line: str | None = None
    zone: str | None = None
    class_name: str | None = Field(None, alias="class")
    event: Literal["enter", "exit", "cross", "dwell", "count", "absent", "still"] | None = None


class RuleConfig(StrictModel):
    name: Name
    on: TriggerConfig
    lookup: str | None = None
    when: str | None = Field(None, description="Condition in the safe expression language")
    severity: Literal["debug", "info", "warning", "error", "critical"] = "info"
    min_confidence: float = Field(0.0, ge=0, le=1)
    cooldown_s: float = Field(0.0, ge=0)
    attributes: dict[str, str] = Field(default_factory=dict)
    actions: list[str] = Field(default_factory=list)
