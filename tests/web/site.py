"""A site for the UI tests: a config file with comments, keys, models and events.

The config has one upload camera watched by Sightwire's bundled parcels model. Its
zone ``belt`` covers the picture (rule ``parcel.seen``); zone ``dock`` is a corner no
parcel reaches (rule ``parcel.docked``), until a test redraws it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sightwire.config.loader import load_config
from sightwire.config.models import SightwireConfig
from sightwire.core import Event, EventData
from sightwire.core.event import EventObject
from sightwire.events.store import EventStore
from sightwire.inference.bundled import PARCELS_MODEL
from sightwire.inference.registry import ModelRegistry
from sightwire.review.store import ReviewQueue
from sightwire.security.keys import ApiKeyStore
from sightwire.security.principal import Role
from sightwire.synth.conveyor import write_conveyor
from tests.inference.onnx_fixtures import tiny_detector

CAMERA = "drone-1"
WIDTH, HEIGHT = 1280, 720
CONFIG = """\
# The web UI tests' site: frames arrive by upload.
version: 1
site: ui-test
store:
  database: "sqlite:///{root}/sightwire.db"
  blobs: "file://{root}/blobs"
models:
  parcels: {{path: "{model}", confidence: 0.3}}
cameras:
  drone-1:  # a phone or drone pushing pictures
    source: upload
    zones:
      belt: [[0, 0], [{w}, 0], [{w}, {h}], [0, {h}]]  # the whole picture
      dock: [[0, 0], [8, 0], [8, 8]]  # a corner no parcel reaches
    analyse:
      - detect: {{model: parcels}}
      - track: {{}}
rules:
  - name: parcel.seen
    on: {{zone: belt, event: enter, class: parcel}}
    actions: [archive]
  - name: parcel.docked
    on: {{zone: dock, event: enter, class: parcel}}
actions:
  archive: {{type: file, path: "{root}/archive.jsonl"}}
api:
  port: {port}
  sse_keepalive_s: 1
"""


@dataclass
class Site:
    """The config file, the keys by role, and the ids of the seeded events."""

    root: Path
    config_path: Path
    config: SightwireConfig
    keys: dict[str, str]
    seeded: list[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def build_site(root: Path, port: int) -> Site:
    """Write the config, create keys and models, seed two reviewable events."""
    path = root / "site.yaml"
    text = CONFIG.format(root=root, model=PARCELS_MODEL, w=WIDTH, h=HEIGHT, port=port)
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    store = EventStore.open(config.store)
    keys = ApiKeyStore(store.db)
    issued = {
        "viewer": keys.create("viewer", Role.VIEWER, None, created_by="test").secret,
        "operator": keys.create("operator", Role.OPERATOR, None, created_by="test").secret,
        "admin": keys.create("admin", Role.ADMIN, None, created_by="test").secret,
        "elsewhere": keys.create("other", Role.ADMIN, frozenset({"cam-x"}), created_by="t").secret,
    }
    registry = ModelRegistry(config.store.database, root / "blobs" / "models")
    for tag in ("1", "2"):  # production went 1 → 2: a rollback has somewhere to go
        registry.add(tiny_detector(root / f"spare-{tag}.onnx", tag=tag), "spare")
        registry.promote("spare", tag, actor="test")
    queue = ReviewQueue(store.db)
    seeded = []
    for index, image in enumerate(conveyor_frames(root)[:2]):
        event = store.record(seed_event(index), ["archive"], snapshot=jpeg(image))
        queue.add_event(event)
        seeded.append(event.id)
    store.db.close()
    return Site(root, path, config, issued, seeded, port)


def seed_event(index: int) -> Event:
    """An event of rule parcel.seen from a minute ago, with one parcel box."""
    now = time.time() - 60 + index
    data = EventData(
        rule="parcel.seen",
        camera=CAMERA,
        captured_at=now - 0.05,
        objects=[EventObject(class_name="parcel", box=(400, 200, 700, 450), confidence=0.8)],
        attributes={"seeded": True},
    )
    return Event.create(site="ui-test", camera=CAMERA, kind="parcel.seen", data=data, now=now)


def conveyor_frames(root: Path) -> list[np.ndarray]:
    """Frames of a synthetic conveyor clip with a parcel in full view (made once)."""
    clip = root / "conveyor.mp4"
    truth = write_conveyor(clip, seconds=8, fps=5, parcels=3, seed=3)
    capture = cv2.VideoCapture(str(clip))
    frames = []
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if truth.activity[index]:
            frames.append(image)
        index += 1
    capture.release()
    return frames[len(frames) // 3 :]  # past the first parcel's way in


def jpeg(image: np.ndarray) -> bytes:
    return bytes(cv2.imencode(".jpg", image)[1].tobytes())
