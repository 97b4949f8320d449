"""Shared pieces of the config models: strictness, names, points and shapes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Point = tuple[float, float]
Polygon = Annotated[list[Point], Field(min_length=3, description="[[x, y], ...] in pixels")]
Line = Annotated[list[Point], Field(min_length=2, max_length=2, description="[[x1, y1], [x2, y2]]")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
