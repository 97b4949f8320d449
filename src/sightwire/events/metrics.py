"""Prometheus metrics of events and deliveries, in a registry Sightwire owns.

The registry is not prometheus-client's global default, so that importing Sightwire
into another program adds nothing to that program's metrics, and tests can make
fresh ones. The API serves ``prometheus_client.generate_latest(sightwire_registry())``.

>>> from prometheus_client import CollectorRegistry, generate_latest
>>> metrics = EventMetrics(CollectorRegistry())
>>> metrics.emitted("com.sightwire.parcel.mismatch", "belt-1", capture_to_emit_s=0.02)
>>> b'sightwire_events_total{camera="belt-1",type="com.sightwire.parcel.mismatch"} 1.0' in (
...     generate_latest(metrics.registry))
True
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}

_registry: CollectorRegistry | None = None
_default: EventMetrics | None = None


def sightwire_registry() -> CollectorRegistry:
    """The process's Sightwire registry (made on first use)."""
    global _registry
    if _registry is None:
        _registry = CollectorRegistry()
    return _registry


def default_metrics() -> EventMetrics:
    """The event metrics in :func:`sightwire_registry` (made on first use)."""
    global _default
    if _default is None:
        _default = EventMetrics(sightwire_registry())
    return _default


class EventMetrics:
    """Counters and histograms the event store and the dispatcher update."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.events = Counter("sightwire_events", "Events recorded", ["type", "camera"], registry=r)
        self.deliveries = Counter(
            "sightwire_deliveries",
            "Delivery attempts by outcome: delivered, failed (will retry), dead",
            ["destination", "outcome"],
            registry=r,
        )
        self.retries = Counter(
            "sightwire_delivery_retries",
            "Failed attempts scheduled again",
            ["destination"],
            registry=r,
        )
        self.dead_letters = Counter(
            "sightwire_dead_letters", "Deliveries given up on", ["destination"], registry=r
        )
        self.capture_to_action = Histogram(
            "sightwire_capture_to_action_seconds",
            "Frame capture to the destination's acknowledgement (first delivery, not replays)",
            ["destination"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.capture_to_emit = Histogram(
            "sightwire_capture_to_emit_seconds",
            "Frame capture to the event's emission",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._events: dict[tuple[str, str], Counter] = {}
        self._delivered: dict[str, tuple[Counter, Histogram]] = {}
        self.breaker = Gauge(
            "sightwire_breaker_state",
            "Circuit breaker per destination: 0 closed, 1 half-open, 2 open",
            ["destination"],
            registry=r,
        )

    def emitted(self, type_: str, camera: str, capture_to_emit_s: float) -> None:
        """An event was recorded."""
        key = (type_, camera)
        counter = self._events.get(key)
        if counter is None:  # labels() costs a lock and a lookup: keep the children
            counter = self._events[key] = self.events.labels(type=type_, camera=camera)
        counter.inc()
        self.capture_to_emit.observe(max(capture_to_emit_s, 0.0))

    def delivered(self, destination: str, capture_to_action_s: float | None) -> None:
        """An attempt succeeded; latency is observed for first deliveries only."""
        children = self._delivered.get(destination)
        if children is None:
            children = self._delivered[destination] = (
                self.deliveries.labels(destination=destination, outcome="delivered"),
                self.capture_to_action.labels(destination=destination),
            )
        children[0].inc()
        if capture_to_action_s is not None:
            children[1].observe(max(capture_to_action_s, 0.0))

    def failed(self, destination: str, dead: bool) -> None:
        """An attempt failed; it will be retried unless ``dead``."""
        if dead:
            self.deliveries.labels(destination=destination, outcome="dead").inc()
            self.dead_letters.labels(destination=destination).inc()
        else:
            self.deliveries.labels(destination=destination, outcome="failed").inc()
            self.retries.labels(destination=destination).inc()

    def breaker_state(self, destination: str, state: str) -> None:
        """A destination's breaker changed state."""
        self.breaker.labels(destination=destination).set(BREAKER_STATES[state])
