"""The split of a camera's pipeline between the roles, and frames as bus packets.

``EdgePipeline`` is the part that runs in ``ingest``: pre-processing stages, the
motion gate, and privacy redaction of faces and plates, so no unredacted face leaves
the edge. What needs detections (inference, tracking, redaction of
``privacy.classes``) runs in ``worker`` on the packet's pixels.

A frame the motion gate found idle travels as a packet without pixels (``idle`` in
its metadata): the worker still observes it, since time passes for dwell and
absence rules, exactly as in embedded mode.

>>> # edge = EdgePipeline("belt-1", camera_config)
>>> # packet = to_packet(edge.process(frame), bus_config)   # in ingest
>>> # frame, idle = from_packet(packet)                     # in a worker
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from sightwire.bus.messages import FramePacket, MessageError
from sightwire.config.bus import BusConfig
from sightwire.config.models import CameraConfig
from sightwire.core import Frame
from sightwire.core.frame import MOTION_BOXES
from sightwire.stages import MotionGate, build_stages
from sightwire.stages.redact import Redactor

IDLE = "idle"
PTS = "pts"


@dataclass(frozen=True, slots=True)
class EdgeFrame:
    """A frame after the edge part: ``idle`` when the motion gate skipped it."""

    frame: Frame
    idle: bool


class EdgePipeline:
    """Stages → motion gate → face/plate redaction, for one camera (no analysers)."""

    def __init__(self, camera: str, config: CameraConfig) -> None:
        self.camera = camera
        self.stages = build_stages(config)
        motion = config.motion
        self.motion = MotionGate(motion) if motion is not None and motion.enabled else None
        self.skip_idle = motion is not None and motion.enabled and motion.skip_idle
        # Only faces and plates here: privacy.classes need the worker's detections.
        privacy = config.privacy.model_copy(update={"classes": []})
        redactor = Redactor(privacy)
        self.redactor = redactor if redactor.active else None

    def process(self, frame: Frame) -> EdgeFrame:
        """Pre-process ``frame`` and gate it on motion, as ``CameraPipeline`` does."""
        for stage in self.stages:
            frame = stage(frame)
        motion = self.motion(frame) if self.motion is not None else None
        idle = motion is not None and self.skip_idle and not motion.has_motion
        if motion is not None and not idle:
            frame = frame.with_image(frame.image, **{MOTION_BOXES: motion.boxes})
        if self.redactor is not None and not idle:
            frame = self.redactor(frame)
        return EdgeFrame(frame, idle)


def to_packet(edge: EdgeFrame, bus: BusConfig) -> FramePacket:
    """The bus packet of an edge frame: pixels as JPEG or raw (none when idle)."""
    frame = edge.frame
    metadata = _plain({**frame.metadata, PTS: frame.pts, IDLE: edge.idle})
    shape = tuple(int(n) for n in frame.image.shape)
    if edge.idle:
        return FramePacket(frame.camera, frame.seq, frame.captured_at, shape, "jpeg", b"", metadata)
    if bus.encoding == "raw":
        data = np.ascontiguousarray(frame.image).tobytes()
        return FramePacket(frame.camera, frame.seq, frame.captured_at, shape, "raw", data, metadata)
    ok, jpeg = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, bus.jpeg_quality])
    if not ok:
        raise MessageError(f"{frame.camera}: frame {frame.seq} could not be JPEG-encoded")
    return FramePacket(
        frame.camera, frame.seq, frame.captured_at, shape, "jpeg", jpeg.tobytes(), metadata
    )


def from_packet(packet: FramePacket) -> EdgeFrame:
    """The frame a packet carries (an idle one gets a black picture of its size)."""
    metadata = dict(packet.metadata)
    pts = float(metadata.pop(PTS, 0.0))
    idle = bool(metadata.pop(IDLE, False))
    if idle:
        image = np.zeros(packet.shape, np.uint8)
    elif packet.encoding == "raw":
        image = np.frombuffer(packet.data, np.uint8).reshape(packet.shape).copy()
    else:
        flags = cv2.IMREAD_GRAYSCALE if len(packet.shape) == 2 else cv2.IMREAD_COLOR
        decoded = cv2.imdecode(np.frombuffer(packet.data, np.uint8), flags)
        if decoded is None:
            raise MessageError(f"{packet.camera}: frame {packet.seq}: undecodable JPEG")
        image = np.asarray(decoded, np.uint8)
    frame = Frame(packet.camera, packet.seq, packet.captured_at, pts, image, metadata)
    return EdgeFrame(frame, idle)


def _plain(value: Any) -> Any:
    """JSON-ready metadata: numpy arrays and numbers as lists and floats."""
    return json.loads(json.dumps(value, default=_numpy))


def _numpy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")
