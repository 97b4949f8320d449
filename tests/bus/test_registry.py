"""Bus URLs: scheme picks the transport, the query sets the options, errors are clear."""

from __future__ import annotations

import pytest

from sightwire.bus import BusError, BusOptions, BusUnavailableError, open_bus, registry
from sightwire.bus.registry import parse_options

from .servers import free_port

pytestmark = pytest.mark.anyio


def test_options_come_from_the_query() -> None:
    options = parse_options("partitions=32&ack_wait_s=2.5&max_deliver=3&prefix=site-a")
    assert options == BusOptions(partitions=32, ack_wait_s=2.5, max_deliver=3, prefix="site-a")


@pytest.mark.parametrize(
    ("query", "message"),
    [("partition=3", "unknown option 'partition'"), ("partitions=x", "not a int"),
     ("partitions=0", "partitions"), ("prefix=A.B", "prefix"), ("ack_wait_s=0", "positive")],
)  # fmt: skip
def test_bad_options_are_refused(query: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_options(query)


async def test_an_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"memory://, nats://, kafka://, redis://"):
        await open_bus("amqp://rabbit")


async def test_a_missing_client_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.KINDS, "nats", ("sightwire_no_such_module", "f", "nats-py"))
    with pytest.raises(BusUnavailableError, match="pip install nats-py"):
        await open_bus("nats://127.0.0.1:4222")


@pytest.mark.parametrize("scheme", ["nats", "redis"])
async def test_an_unreachable_server_is_a_bus_error(scheme: str) -> None:
    with pytest.raises(BusError):
        await open_bus(f"{scheme}://127.0.0.1:{free_port()}")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
