"""The bus between roles: frame packets and events, partitioned by camera.

>>> # bus = await open_bus("nats://nats:4222"); await bus.publish("frames", "belt-1", data)
"""

from sightwire.bus.base import (
    Bus,
    BusError,
    BusOptions,
    Consumer,
    Received,
    consume,
)
from sightwire.bus.registry import BusUnavailableError, open_bus

__all__ = [
    "Bus",
    "BusError",
    "BusOptions",
    "BusUnavailableError",
    "Consumer",
    "Received",
    "consume",
    "open_bus",
]
