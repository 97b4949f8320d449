"""A belt scale read over MQTT: each published weight goes into a time-indexed buffer.

The scale publishes one message per weighing, a plain number (``7.25``) or JSON
(``{"weight": 7.25, "ts": 1767225600.4}``); ``field`` and ``time_field`` pick the
weight and its time out of JSON (dotted paths), ``unit`` says what the number is in.
Weights are kept in kilograms.

:class:`ScaleSubscriber` runs one MQTT connection in its own thread (with its own
event loop, since camera threads are not async), reconnecting with backoff when the
broker goes away. ``start()`` waits until the subscription stands (or ``timeout_s``),
so readings published after it are not missed.

>>> from sightwire.config.sensors import ScaleConfig
>>> scale = ScaleConfig(host="127.0.0.1", topic="line1/scale", field="weight", unit="g",
...                     time_field="ts")
>>> parse_reading(b'{"weight": 7250, "ts": 1000.5}', scale, arrived=1001.0)
(1000.5, 7.25)
>>> # with ScaleSubscriber("belt-scale", scale) as subscriber:
>>> #     subscriber.buffer.nearest(t, window_s=1.0)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from types import TracebackType
from typing import Any

import aiomqtt

from sightwire.config.sensors import ScaleConfig
from sightwire.security.tls import ssl_context
from sightwire.sensors.buffer import ReadingBuffer

log = logging.getLogger("sightwire.sensors")
TO_KG = {"kg": 1.0, "g": 0.001, "lb": 0.45359237}
BACKOFF_S = (0.5, 10.0)
"""First and longest wait between connection attempts."""


def _dotted(document: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(document, dict) or part not in document:
            raise ValueError(f"no field {path!r} in the payload")
        document = document[part]
    return document


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{what} is not a number: {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{what} is not a number: {value!r}") from None


def parse_reading(payload: bytes, config: ScaleConfig, *, arrived: float) -> tuple[float, float]:
    """``(time, kilograms)`` of one message; ``arrived`` is the time when the payload
    has no time. Raises ValueError for a payload that is not what ``config`` says."""
    text = payload.decode("utf-8", "replace").strip()
    if config.field is None and config.time_field is None:
        return arrived, _number(text, "the payload") * TO_KG[config.unit]
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError(f"the payload is not JSON: {text[:80]!r}") from None
    weight = _number(
        document if config.field is None else _dotted(document, config.field), "weight"
    )
    t = arrived
    if config.time_field is not None:
        t = _number(_dotted(document, config.time_field), "time")
    return t, weight * TO_KG[config.unit]


class ScaleSubscriber:
    """Keeps ``buffer`` filled with a scale's readings; see the module doc."""

    def __init__(self, name: str, config: ScaleConfig, buffer: ReadingBuffer | None = None) -> None:
        self.name = name
        self.config = config
        self.buffer = ReadingBuffer(config.keep_s) if buffer is None else buffer
        self.subscribed = threading.Event()
        self.readings = 0
        self.rejected = 0
        # made now: a wrong certificate path fails here, not in every reconnect
        self._tls = ssl_context(config.tls) if config.tls is not None else None
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Connect and subscribe in the background; wait up to ``timeout_s`` for the
        subscription. Returns whether it stands (if not, it keeps trying)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"scale-{self.name}", daemon=True
            )
            self._thread.start()
        return self.subscribed.wait(self.config.timeout_s)

    def close(self) -> None:
        """Disconnect and end the thread (within about a second)."""
        self._stop.set()
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def __enter__(self) -> ScaleSubscriber:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(self._serve())
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    async def _serve(self) -> None:
        """Subscribe, read, and after a failure wait (backoff) and subscribe again."""
        wait = BACKOFF_S[0]
        while not self._stop.is_set():
            try:
                await self._subscribe_and_read()
                wait = BACKOFF_S[0]
            except aiomqtt.MqttError as error:
                self.subscribed.clear()
                log.warning(
                    "scale %s: broker %s:%d: %s (again in %.1f s)",
                    self.name,
                    self.config.host,
                    self.config.port,
                    error,
                    wait,
                )
            await asyncio.sleep(wait)  # cancelled at once by close()
            wait = min(wait * 2, BACKOFF_S[1])

    async def _subscribe_and_read(self) -> None:
        config = self.config
        password = None if config.password is None else config.password.get_secret_value()
        async with aiomqtt.Client(
            config.host,
            config.port,
            username=config.username,
            password=password,
            timeout=config.timeout_s,
            tls_context=self._tls,
        ) as client:
            await client.subscribe(config.topic, qos=1)
            self.subscribed.set()
            log.info("scale %s: subscribed to %s", self.name, config.topic)
            async for message in client.messages:
                self._take(message.payload)

    def _take(self, payload: Any) -> None:
        data = payload if isinstance(payload, bytes) else str(payload).encode()
        try:
            t, kg = parse_reading(data, self.config, arrived=time.time())
        except ValueError as error:
            self.rejected += 1
            log.warning("scale %s: reading refused: %s", self.name, error)
            return
        self.readings += 1
        self.buffer.add(t, kg)
