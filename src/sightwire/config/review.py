"""Config of human review (``review:``): the active-learning sampler.

Events always enter the review queue when recorded; this section governs the frames
that the sampler adds because their detections sit near a model's confidence
threshold.

```yaml
review:
  enabled: true            # the sampler (events are queued either way)
  sample_rate_per_min: 1   # at most this many frames per camera per minute of stream time
  band: 0.15               # a detection within ±band of the threshold makes a frame a candidate
  max_pending: 500         # stop sampling while this many sampled frames await review
```

>>> ReviewConfig().band, ReviewConfig().sample_rate_per_min, ReviewConfig().enabled
(0.15, 1.0, True)
"""

from __future__ import annotations

from pydantic import Field

from sightwire.config.base import StrictModel


class ReviewConfig(StrictModel):
    enabled: bool = Field(True, description="Sample near-threshold frames into the review queue")
    sample_rate_per_min: float = Field(
        1.0, gt=0, le=600, description="Most frames sampled per camera per minute of stream time"
    )
    band: float = Field(
        0.15,
        gt=0,
        le=0.5,
        description="A detection within ±band of the model's confidence threshold is a candidate",
    )
    max_pending: int = Field(
        500,
        ge=1,
        description="Sampling pauses while this many sampled frames await review (disk bound)",
    )
