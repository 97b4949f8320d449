"""What travels on the bus: frame packets (binary) and events (CloudEvents JSON).

A frame packet is a fixed 32-byte header, the camera name, a small JSON metadata
block (motion boxes and the like; ``{}`` when empty), then the image bytes as they are
— a JPEG, or the raw ``uint8`` pixels — never base64. Layout (big-endian)::

    magic "SWFP" | version u8 | encoding u8 | ndim u8 | camera length u8
    seq u64 | captured_at f64 | metadata length u32 | reserved u32
    shape u32 * ndim | camera UTF-8 | metadata JSON | image bytes

>>> packet = FramePacket("belt-1", 7, 1_700_000_000.25, (2, 2, 3), "raw", bytes(12))
>>> FramePacket.decode(packet.encode()) == packet
True
>>> len(packet.encode()) - len(packet.data)
50
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

from sightwire.actions.envelope import cloudevent_json
from sightwire.core import Event

MAGIC = b"SWFP"
VERSION = 1
_HEADER = struct.Struct(">4sBBBBQdII")
Encoding = Literal["raw", "jpeg"]
_ENCODINGS: dict[str, int] = {"raw": 0, "jpeg": 1}
_NAMES: dict[int, Encoding] = {0: "raw", 1: "jpeg"}


class MessageError(ValueError):
    """Bytes that are not a message of the expected kind and version."""


@dataclass(frozen=True, slots=True)
class FramePacket:
    """One sampled frame of one camera, on its way from ``ingest`` to a ``worker``.

    ``shape`` is the image's (height, width[, channels]) — for a JPEG, what it decodes
    to; ``data`` is the JPEG file or the raw ``uint8`` pixels, row-major.
    """

    camera: str
    seq: int
    captured_at: float
    shape: tuple[int, ...]
    encoding: Encoding
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        camera = self.camera.encode()
        if not 1 <= len(camera) <= 255:
            raise MessageError("camera: 1 to 255 bytes of UTF-8")
        if self.encoding not in _ENCODINGS:
            raise MessageError(f"encoding {self.encoding!r}: raw or jpeg")
        if not 1 <= len(self.shape) <= 4 or any(not 0 < n < 2**32 for n in self.shape):
            raise MessageError(f"shape {self.shape}: 1 to 4 positive dimensions")
        if self.encoding == "raw" and len(self.data) != math.prod(self.shape):
            raise MessageError(f"raw data of {len(self.data)} bytes does not fill {self.shape}")
        if not 0 <= self.seq < 2**64:
            raise MessageError("seq: 0 to 2**64 - 1")

    @property
    def key(self) -> str:
        """The partition key: frames of one camera go to one worker, in order."""
        return self.camera

    def encode(self) -> bytes:
        camera = self.camera.encode()
        meta = json.dumps(self.metadata, separators=(",", ":")).encode() if self.metadata else b""
        header = _HEADER.pack(
            MAGIC, VERSION, _ENCODINGS[self.encoding], len(self.shape), len(camera),
            self.seq, self.captured_at, len(meta), 0,
        )  # fmt: skip
        dims = struct.pack(f">{len(self.shape)}I", *self.shape)
        return b"".join((header, dims, camera, meta, self.data))

    @classmethod
    def decode(cls, blob: bytes) -> FramePacket:
        """The packet ``encode`` made; :class:`MessageError` for anything else."""
        if len(blob) < _HEADER.size or blob[:4] != MAGIC:
            raise MessageError("not a Sightwire frame packet")
        _, version, encoding, ndim, camera_len, seq, captured_at, meta_len, _ = _HEADER.unpack_from(
            blob
        )
        if version != VERSION:
            raise MessageError(f"frame packet version {version}; this build reads {VERSION}")
        if encoding not in _NAMES:
            raise MessageError(f"unknown frame encoding {encoding}")
        offset = _HEADER.size
        end = offset + 4 * ndim + camera_len + meta_len
        if len(blob) < end:
            raise MessageError("frame packet is cut short")
        shape = struct.unpack_from(f">{ndim}I", blob, offset)
        offset += 4 * ndim
        camera = blob[offset : offset + camera_len].decode()
        meta = blob[offset + camera_len : end]
        try:
            metadata = json.loads(meta) if meta else {}
        except ValueError as exc:
            raise MessageError(f"frame packet metadata: {exc}") from None
        return cls(camera, seq, captured_at, tuple(shape), _NAMES[encoding], blob[end:], metadata)


@dataclass(frozen=True, slots=True)
class EventMessage:
    """An event on the bus: the CloudEvents JSON, keyed by the event id.

    The id is the key so that a consumer (and Kafka log compaction) can drop the
    duplicates at-least-once delivery brings.

    >>> # message = EventMessage.of(event)
    >>> # await bus.publish("events", message.key, message.payload)
    """

    key: str
    payload: bytes

    @classmethod
    def of(cls, event: Event) -> EventMessage:
        return cls(event.id, cloudevent_json(event))

    def event(self) -> Event:
        """The event back; :class:`MessageError` when the payload is not one."""
        try:
            event = Event.model_validate_json(self.payload)
        except ValueError as exc:
            raise MessageError(f"not a Sightwire event: {exc}") from None
        if event.id != self.key:
            raise MessageError(f"event {event.id} arrived under key {self.key}")
        return event
