"""A small site for the API tests: config, store with events and snapshots, keys."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np

from sightwire.api import ApiContext
from sightwire.api.limits import RateLimiter
from sightwire.config.models import CameraConfig, SightwireConfig
from sightwire.core import Detections, Event, EventData, Frame
from sightwire.core.event import EventObject, Severity
from sightwire.events.store import EventStore
from sightwire.inference.registry import ModelRegistry
from sightwire.runtime.live import LiveView
from sightwire.runtime.pipeline import FrameResult
from sightwire.runtime.runner import Runner
from sightwire.runtime.stats import CameraStats
from sightwire.security.audit import AuditTrail
from sightwire.security.keys import ApiKeyStore
from sightwire.security.principal import Role
from sightwire.sources.upload import UploadSource
from sightwire.synth.textures import conveyor_background
from tests.inference.onnx_fixtures import tiny_detector

ROLES = ("viewer", "operator", "admin", "scoped")
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="


def site_config(root: Path, **api: Any) -> SightwireConfig:
    """Three cameras (one takes uploads), two rules, an action with a secret."""
    return SightwireConfig.model_validate(
        {
            "site": "test",
            "store": {
                "database": f"sqlite:///{root}/sightwire.db",
                "blobs": f"file://{root}/blobs",
            },
            "cameras": {
                "belt-1": {
                    "source": "rtsp://admin:hunter2@10.0.0.5/stream1?token=abc",
                    "zones": {"belt": [[0, 40], [320, 40], [320, 200], [0, 200]]},
                    "lines": {"exit": [[300, 0], [300, 240]]},
                },
                "dock-2": {"source": str(root / "dock.mp4")},
                "drone-1": {"source": "upload"},
            },
            "rules": [
                {"name": "parcel.seen", "on": {"line": "exit", "camera": "belt-1"}},
                {"name": "dock.busy", "on": {"zone": "dock", "camera": "dock-2"}},
            ],
            "actions": {
                "erp": {
                    "type": "webhook",
                    "url": "http://127.0.0.1:9/hook",
                    "secret": WEBHOOK_SECRET,
                }
            },
            "api": api,
        }
    )


def snapshot_jpeg(seed: int = 0) -> bytes:
    """A conveyor background from the synthetic scenes, as JPEG."""
    image = conveyor_background(np.random.default_rng(seed), 240, 320, (40, 200))
    return bytes(cv2.imencode(".jpg", image)[1].tobytes())


def make_event(
    camera: str, rule: str, severity: Severity = "info", at: float | None = None
) -> Event:
    now = time.time() if at is None else at
    data = EventData(
        rule=rule,
        camera=camera,
        captured_at=now - 0.05,
        severity=severity,
        objects=[
            EventObject(class_name="parcel", box=(40, 60, 140, 160), confidence=0.9, track_id=3)
        ],
        attributes={"length_mm": 412.5},
    )
    return Event.create(site="test", camera=camera, kind=rule, data=data, now=now)


@dataclass
class Site:
    """A site's API context, its keys by role, and the events recorded."""

    root: Path
    ctx: ApiContext
    keys: dict[str, str]
    events: dict[str, Event]  # camera → one event of that camera

    def headers(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.keys[role]}"}


class FakeRunner:
    """Stands in for a Runner where only its upload sources matter (no threads)."""

    def __init__(self, config: SightwireConfig) -> None:
        self.uploads = {
            name: UploadSource(name, camera)
            for name, camera in config.cameras.items()
            if camera.source == "upload"
        }
        self.stats = {name: CameraStats(name) for name in config.cameras}
        self.failed: dict[str, str] = {}

    def source(self, camera: str) -> UploadSource | None:
        return self.uploads.get(camera)

    def apply_zones(self, camera: str, config: CameraConfig) -> None:
        self.stats[camera].detail = f"zones {sorted(config.zones)}"  # seen, nothing to run

    def summary(self) -> list[dict[str, Any]]:
        counts = {"frames": 0, "dropped": 0, "reconnects": 0}
        return [stats.summary(counts) for stats in self.stats.values()]


def frame_result(camera: str, seq: int = 0) -> FrameResult:
    """A processed frame of ``camera`` with one tracked parcel."""
    image = conveyor_background(np.random.default_rng(seq), 240, 320, (40, 200))
    frame = Frame(camera, seq, time.time(), seq / 5, image)
    found = Detections(
        xyxy=np.array([[40, 60, 140, 160]], np.float32),
        confidence=np.array([0.9], np.float32),
        class_id=np.array([0]),
        tracker_id=np.array([3]),
        data={"class_name": np.array(["parcel"])},
    )
    return FrameResult(frame, None, found, skipped=False)


def register_models(registry: ModelRegistry, root: Path) -> None:
    """``parcels`` versions 1 and 2; production went 1 → 2, so a rollback has somewhere to go."""
    for tag in ("1", "2"):
        registry.add(tiny_detector(root / f"parcels-{tag}.onnx", tag=tag), "parcels")
        registry.promote("parcels", tag, actor="test")


def build_site(root: Path, *, models: bool = False, **api: Any) -> Site:
    config = site_config(root, **api)
    live = LiveView(config)
    live.attach(cast(Runner, FakeRunner(config)))
    for camera in ("belt-1", "dock-2"):
        live.observe(frame_result(camera))
    store = EventStore.open(config.store)
    keys = ApiKeyStore(store.db)
    issued = {
        "viewer": keys.create("viewer", Role.VIEWER, None, created_by="test"),
        "operator": keys.create("operator", Role.OPERATOR, None, created_by="test"),
        "admin": keys.create("admin", Role.ADMIN, None, created_by="test"),
        "scoped": keys.create(
            "scoped", Role.OPERATOR, frozenset({"belt-1", "drone-1"}), created_by="test"
        ),
    }
    recorded = {}
    start = time.time() - 60
    for index, camera in enumerate(("belt-1", "dock-2", "belt-1", "dock-2")):
        rule = "parcel.seen" if camera == "belt-1" else "dock.busy"
        severity: Severity = "warning" if index % 2 else "info"
        event = make_event(camera, rule, severity, at=start + index)
        recorded[camera] = store.record(event, ["erp"], snapshot_jpeg(index))
    registry = ModelRegistry(config.store.database, root / "blobs" / "models")
    if models:
        register_models(registry, root)
    ctx = ApiContext(
        config,
        store,
        keys,
        AuditTrail(store.db),
        live=live,
        registry_factory=lambda: registry,
        upload_limiter=RateLimiter(config.api.uploads_per_minute),
    )
    return Site(root, ctx, {role: issued[role].secret for role in ROLES}, recorded)
