"""Config of the bus between the distributed roles (``bus:``).

A plain URL is enough (``bus: "${SIGHTWIRE_BUS_URL}"``, as the Helm chart writes it);
the mapping form sets the rest:

```yaml
bus:
  url: nats://nats:4222          # memory:// (default), nats://, kafka://, redis://
  stream: frames                 # where ingest publishes frame packets
  group: workers                 # the workers' consumer group
  partitions: 16                 # or ?partitions=16 in the URL (not both, unless equal)
  encoding: jpeg                 # jpeg | raw (raw: exact pixels, ~3 bytes a pixel)
  jpeg_quality: 90
  buffer: {path: /var/lib/sightwire/buffer, max_mb: 1024}
  replay_frames: 8               # unacked per camera, replayed by the next owner
```

>>> BusConfig.model_validate("nats://nats:4222?prefix=site1").url
'nats://nats:4222?prefix=site1'
>>> BusConfig(url="kafka://k:9092", partitions=8).bus_url()
'kafka://k:9092?partitions=8'
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from pydantic import Field, model_validator

from sightwire.config.base import StrictModel


class BufferConfig(StrictModel):
    """Where ingest keeps frame packets while the bus is unreachable."""

    path: str = Field(
        "/var/lib/sightwire/buffer",
        description="Folder of the buffer (one SQLite file); the chart mounts /var/lib/sightwire",
    )
    max_mb: float = Field(
        1024.0, gt=0, description="Size cap; past it the oldest frames are dropped (and counted)"
    )


class BusConfig(StrictModel):
    """The bus the roles share; ``memory://`` keeps everything in one process."""

    url: str = Field("memory://", description="memory://, nats://, kafka:// or redis:// URL")
    stream: str = Field("frames", pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")
    group: str = Field("workers", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    partitions: int | None = Field(
        None, ge=1, le=1024, description="Partitions of the stream (default: the URL's, or 16)"
    )
    encoding: Literal["jpeg", "raw"] = Field("jpeg", description="How frames travel")
    jpeg_quality: int = Field(90, ge=10, le=100)
    buffer: BufferConfig = Field(default_factory=BufferConfig)
    replay_frames: int = Field(
        8,
        ge=0,
        le=1000,
        description="Newest frames a worker leaves unacked per camera: a worker taking the"
        " camera over replays them to warm its tracker up (their events come again with"
        " the same ids and are dropped)",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_url(cls, value: Any) -> Any:
        return {"url": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check_url(self) -> BusConfig:
        parts = urlsplit(self.url)
        if parts.scheme not in ("memory", "nats", "kafka", "redis"):
            raise ValueError(f"url {self.url!r}: memory://, nats://, kafka:// or redis://")
        given = dict(parse_qsl(parts.query)).get("partitions")
        if given is not None and self.partitions is not None and given != str(self.partitions):
            raise ValueError(f"partitions {self.partitions} disagrees with the URL's {given}")
        return self

    def bus_url(self) -> str:
        """The URL for :func:`sightwire.bus.open_bus`, with ``partitions`` in its query."""
        base, _, query_text = self.url.partition("?")
        query = dict(parse_qsl(query_text, keep_blank_values=True))
        if self.partitions is not None:
            query["partitions"] = str(self.partitions)
        return f"{base}?{urlencode(query)}" if query else base
