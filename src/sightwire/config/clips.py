"""Config of a camera's event clips (``clip:``): a short H.264 MP4 around each event.

```yaml
cameras:
  belt-1:
    source: rtsp://...
    clip: {pre_s: 3, post_s: 2, width: 640}
```

>>> ClipConfig().pre_s, ClipConfig().post_s, ClipConfig().width
(3.0, 2.0, 640)
"""

from __future__ import annotations

from pydantic import Field

from sightwire.config.base import StrictModel


class ClipConfig(StrictModel):
    pre_s: float = Field(3.0, ge=0, le=30, description="Seconds of video kept before the event")
    post_s: float = Field(2.0, ge=0, le=30, description="Seconds of video recorded after it")
    width: int = Field(
        640, ge=64, le=1920, description="Frames are scaled down to at most this many pixels wide"
    )
