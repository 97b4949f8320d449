"""Config of event delivery (``delivery:``): retries, backoff, circuit breaker, limits.

```yaml
delivery:
  max_attempts: 10
  backoff: {initial_s: 1, max_s: 300, jitter: 0.2}
  breaker: {threshold: 5, cooldown_s: 30}
  concurrency: 8
  attempt_timeout_s: 10
  own_process: false     # true: deliver from a child process (embedded mode)
```
"""

from __future__ import annotations

from pydantic import Field, model_validator

from sightwire.config.base import StrictModel


class BackoffConfig(StrictModel):
    initial_s: float = Field(1.0, gt=0, description="Wait after the first failed attempt")
    factor: float = Field(
        2.0, ge=1, le=10, description="Each further wait is this many times longer"
    )
    max_s: float = Field(300.0, gt=0, description="Longest wait between two attempts")
    jitter: float = Field(0.2, ge=0, le=1, description="Random share added to each wait")


class BreakerConfig(StrictModel):
    threshold: int = Field(
        5, ge=1, description="Consecutive failed attempts to one destination that open its breaker"
    )
    cooldown_s: float = Field(
        30.0, gt=0, description="While open, nothing is sent; then one probe attempt decides"
    )


class DeliveryConfig(StrictModel):
    max_attempts: int = Field(
        10, ge=1, le=1000, description="A delivery that failed this many times is dead-lettered"
    )
    backoff: BackoffConfig = Field(default_factory=BackoffConfig)
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    concurrency: int = Field(8, ge=1, le=1024, description="Attempts in flight per destination")
    attempt_timeout_s: float = Field(
        10.0, gt=0, le=600, description="An attempt that takes longer fails (and is retried)"
    )
    lease_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="A claimed delivery is reserved this long; if its dispatcher dies, "
        "another (or the restarted one) retries it after this. At least twice "
        "attempt_timeout_s: a claim may wait for one attempt before its own",
    )
    batch: int = Field(500, ge=1, le=10_000, description="Most deliveries claimed in one query")
    poll_s: float = Field(
        0.5,
        gt=0,
        le=60,
        description="How often to look for deliveries written by other processes",
    )
    gather_s: float = Field(
        0.005,
        ge=0,
        le=1,
        description="After a new event wakes the dispatcher, wait this long for more, so "
        "that one database round claims many deliveries (adds at most this latency)",
    )

    own_process: bool = Field(
        False,
        description="Embedded mode: deliver from a child process of `sightwire run` "
        "(started again if it dies), so that signed requests and the cameras use two "
        "cores: about 1.5-1.9x the events a second at a few events a frame; each "
        "delivery still starts within gather_s of its commit. Distributed mode runs "
        "`sightwire dispatch` instead, and ignores this",
    )

    @model_validator(mode="after")
    def _lease_covers_two_attempts(self) -> DeliveryConfig:
        if self.lease_s < 2 * self.attempt_timeout_s:
            raise ValueError("lease_s must be at least twice attempt_timeout_s")
        return self
