"""Event metrics live in Sightwire's own registry, under the documented names."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from sightwire.events.metrics import EventMetrics, default_metrics, sightwire_registry
from sightwire.events.store import EventStore
from sightwire.storage.database import open_database
from tests.events.factory import make_event
from tests.storage.databases import sqlite_url


def test_recording_counts_events_and_capture_to_emit(tmp_path: Path) -> None:
    metrics = EventMetrics(CollectorRegistry())
    store = EventStore(open_database(sqlite_url(tmp_path), migrate=True), None, metrics)
    for camera in ("belt-1", "belt-1", "dock"):
        store.record(make_event(kind="parcel.seen", camera=camera, at=100.0, captured_at=99.97), [])
    value = metrics.registry.get_sample_value
    labels = {"type": "com.sightwire.parcel.seen", "camera": "belt-1"}
    assert value("sightwire_events_total", labels) == 2
    assert value("sightwire_capture_to_emit_seconds_count") == 3
    assert value("sightwire_capture_to_emit_seconds_bucket", {"le": "0.025"}) == 0
    assert value("sightwire_capture_to_emit_seconds_bucket", {"le": "0.05"}) == 3
    store.db.close()


def test_the_names_are_exposed_and_the_global_registry_is_untouched() -> None:
    metrics = EventMetrics(CollectorRegistry())
    metrics.delivered("erp", 0.04)
    metrics.failed("erp", dead=False)
    metrics.failed("erp", dead=True)
    text = generate_latest(metrics.registry).decode()
    for line in (
        'sightwire_deliveries_total{destination="erp",outcome="delivered"} 1.0',
        'sightwire_deliveries_total{destination="erp",outcome="failed"} 1.0',
        'sightwire_deliveries_total{destination="erp",outcome="dead"} 1.0',
        'sightwire_delivery_retries_total{destination="erp"} 1.0',
        'sightwire_dead_letters_total{destination="erp"} 1.0',
        'sightwire_capture_to_action_seconds_count{destination="erp"} 1.0',
    ):
        assert line in text
    assert default_metrics() is default_metrics()
    assert default_metrics().registry is sightwire_registry() is not REGISTRY
    assert REGISTRY.get_sample_value("sightwire_dead_letters_total", {"destination": "erp"}) is None
