"""Frame packets and event messages survive encoding; anything else is refused."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sightwire.bus.messages import EventMessage, FramePacket, MessageError
from sightwire.core import Event, EventData
from sightwire.core.event import EventObject

cameras = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda name: len(name.encode()) <= 255
)
shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)
metadata = st.dictionaries(
    st.text(max_size=8), st.lists(st.integers(-(2**31), 2**31), max_size=4), max_size=3
)


@st.composite
def packets(draw: st.DrawFn) -> FramePacket:
    shape = draw(shapes)
    encoding = draw(st.sampled_from(["raw", "jpeg"]))
    size = math.prod(shape) if encoding == "raw" else draw(st.integers(0, 64))
    return FramePacket(
        camera=draw(cameras),
        seq=draw(st.integers(0, 2**64 - 1)),
        captured_at=draw(st.floats(allow_nan=False)),
        shape=shape,
        encoding=encoding,
        data=draw(st.binary(min_size=size, max_size=size)),
        metadata=draw(metadata),
    )


@given(packets())
def test_frame_packets_round_trip(packet: FramePacket) -> None:
    blob = packet.encode()
    assert FramePacket.decode(blob) == packet
    assert blob.endswith(packet.data)  # the image bytes travel as they are


def test_the_header_is_compact_binary() -> None:
    jpeg = b"\xff\xd8" + bytes(5000) + b"\xff\xd9"
    packet = FramePacket(
        "belt-1", 3, 1.7e9, (720, 1280, 3), "jpeg", jpeg, {"motion": [[1, 2, 3, 4]]}
    )
    assert len(packet.encode()) - len(jpeg) < 100  # not base64 in JSON (+33 %)


@given(packets(), st.data())
def test_a_truncated_packet_is_refused_or_shorter(packet: FramePacket, data: st.DataObject) -> None:
    blob = packet.encode()
    cut = data.draw(st.integers(0, len(blob) - len(packet.data) - 1))
    with pytest.raises(MessageError):
        FramePacket.decode(blob[:cut])


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "not a Sightwire frame packet"),
        (b"GIF89a" + bytes(40), "not a Sightwire frame packet"),
        (b"SWFP\x02" + bytes(40), "version 2"),
        (b"SWFP\x01\x07" + bytes(40), "unknown frame encoding 7"),
    ],
    ids=["empty", "gif", "version", "encoding"],
)
def test_foreign_bytes_are_refused(blob: bytes, message: str) -> None:
    with pytest.raises(MessageError, match=message):
        FramePacket.decode(blob)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"data": bytes(5)}, "does not fill"),
        ({"camera": ""}, "camera"),
        ({"shape": ()}, "shape"),
        ({"shape": (0, 2)}, "shape"),
        ({"encoding": "png"}, "encoding"),
        ({"seq": -1}, "seq"),
    ],
)
def test_invalid_packets_are_refused(fields: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"camera": "c", "seq": 0, "captured_at": 0.0, "shape": (2, 3),
                                 "encoding": "raw", "data": bytes(6)} | fields  # fmt: skip
    with pytest.raises(MessageError, match=message):
        FramePacket(**values)  # type: ignore[arg-type]


def event() -> Event:
    return Event.create(
        site="dc-berlin",
        camera="belt-1",
        kind="parcel.mismatch",
        data=EventData(
            rule="parcel.mismatch",
            camera="belt-1",
            captured_at=1.7e9,
            severity="warning",
            objects=[EventObject(class_name="parcel", box=(1, 2, 3, 4), confidence=0.9)],
            attributes={"length_mm": 412.5, "label": "Größe ✓"},
        ),
    )


def test_event_messages_are_keyed_by_event_id_and_round_trip() -> None:
    original = event()
    message = EventMessage.of(original)
    assert message.key == original.id
    assert message.payload.startswith(b'{"specversion":"1.0"')
    assert EventMessage(message.key, message.payload).event() == original


def test_an_event_under_another_key_or_not_an_event_is_refused() -> None:
    message = EventMessage.of(event())
    with pytest.raises(MessageError, match="under key"):
        EventMessage("01OTHER", message.payload).event()
    with pytest.raises(MessageError, match="not a Sightwire event"):
        EventMessage("x", b"{}").event()
