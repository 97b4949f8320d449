"""Publish weighings to an MQTT topic, as a belt scale would: for the demo and tests.

>>> # publish_readings("127.0.0.1", 1883, "line1/scale", [(12.4, 7.25)])
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Sequence

import aiomqtt


def broker_reachable(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """Whether something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def publish_readings(
    host: str, port: int, topic: str, readings: Sequence[tuple[float, float]]
) -> int:
    """Publish each ``(time, kg)`` as ``{"weight": kg, "ts": time}`` (QoS 1, so each
    has reached the broker on return); returns how many were published."""

    async def publish() -> int:
        async with aiomqtt.Client(host, port, timeout=5) as client:
            for t, kg in readings:
                await client.publish(topic, json.dumps({"weight": kg, "ts": t}), qos=1)
        return len(readings)

    return asyncio.run(publish())
