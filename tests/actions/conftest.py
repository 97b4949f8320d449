"""Fixtures of the action tests: events, a recording HTTP receiver, a Slack mock."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from sightwire.core import Event, EventData
from sightwire.core.event import EventObject

from .receiver import Receiver, SlackMock


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_event(kind: str = "parcel.mismatch", **attributes: Any) -> Event:
    """A parcel event on camera belt-1 with ``attributes``."""
    return Event.create(
        site="dc-berlin",
        camera="belt-1",
        kind=kind,
        data=EventData(
            rule=kind,
            camera="belt-1",
            captured_at=1_700_000_000.0,
            severity="warning",
            objects=[EventObject(class_name="parcel", box=(10, 20, 110, 220), confidence=0.9)],
            attributes=attributes,
        ),
    )


@pytest.fixture
def event() -> Event:
    return make_event(tracking_number="1Z999AA10123456784", length_mm=412.5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


@pytest.fixture
def slack() -> Iterator[SlackMock]:
    with SlackMock() as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    """A localhost port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
