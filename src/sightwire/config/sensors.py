"""Config of sensors beside the cameras: belt scales read over MQTT, and the ``weigh``
step that joins their readings to the objects a camera tracks.

```yaml
scales:
  belt-scale:
    host: broker.plant.local
    topic: line1/scale/weight
    field: weight            # JSON field (dotted); leave out for a plain number
    unit: kg
    time_field: ts           # the reading's time in the payload; else its arrival
cameras:
  belt-1:
    lines: {scale: [[640, 0], [640, 720]]}
    analyse:
      - weigh: {scale: belt-scale, within: parcel, line: scale}
```
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr

from sightwire.config.base import Name, StrictModel
from sightwire.config.security import ClientTlsConfig

if TYPE_CHECKING:
    from sightwire.config.models import SightwireConfig


class ScaleConfig(StrictModel):
    """A scale that publishes each weight it measures to an MQTT topic."""

    host: str = Field(description="MQTT broker host")
    port: int = Field(1883, ge=1, le=65535)
    topic: str = Field(description="Topic the scale publishes to (wildcards allowed)")
    field: str | None = Field(
        None, description="Dotted path of the weight in a JSON payload; unset: a plain number"
    )
    unit: Literal["kg", "g", "lb"] = Field("kg", description="Unit of the published weight")
    time_field: str | None = Field(
        None,
        description="Dotted path of the reading's time (seconds) in a JSON payload; unset: "
        "the time the reading arrived",
    )
    clock: Literal["wall", "stream"] = Field(
        "wall",
        description="wall: reading times are epoch seconds, joined with each frame's capture "
        "time (live cameras); stream: seconds on the video's own clock (pts), for a "
        "recorded line replayed with its scale log (needs time_field)",
    )
    keep_s: float = Field(120.0, gt=0, description="How long readings are kept for joining")
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(5.0, gt=0, le=120, description="Connect and subscribe timeout")
    tls: ClientTlsConfig | None = Field(
        None, description="TLS to the broker (port 8883): CA bundle, client certificate"
    )


class WeighOptions(StrictModel):
    scale: Name = Field(description="A scale under scales")
    within: str = Field(description="Weigh objects of this class")
    line: Name = Field(description="The camera's line where an object is on the scale")
    offset_s: float = Field(
        0.0, description="The scale weighs this long after the object crosses the line"
    )
    window_s: float = Field(
        1.0, gt=0, description="Most time between the expected and the joined reading"
    )


class WeighStep(StrictModel):
    weigh: WeighOptions


def weigh_problems(config: SightwireConfig) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, message) for each weigh step naming a missing scale or line."""
    for name, camera in config.cameras.items():
        for k, step in enumerate(camera.analyse):
            if not isinstance(step, WeighStep):
                continue
            where = ("cameras", name, "analyse", k, "weigh")
            if step.weigh.scale not in config.scales:
                yield (*where, "scale"), f"no scale named {step.weigh.scale!r} under scales"
            if step.weigh.line not in camera.lines:
                yield (*where, "line"), f"camera {name!r} has no line named {step.weigh.line!r}"
            scale = config.scales.get(step.weigh.scale)
            if scale is not None and scale.clock == "stream" and scale.time_field is None:
                yield (*where, "scale"), "a scale on the stream clock needs a time_field"
