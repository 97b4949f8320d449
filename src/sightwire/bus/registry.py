"""Open the bus a URL names: one line per transport in ``KINDS``.

``memory://`` (default, in-process), ``nats://host:4222[,host2:4222]``,
``kafka://host:9092[,host2:9092]``, ``redis://host:6379/0``; the query sets
:class:`~sightwire.bus.base.BusOptions` (``?partitions=32&ack_wait_s=30``). A
transport's module is imported only when a URL uses it, so a missing client library
only matters to configs that need it.

>>> import asyncio
>>> asyncio.run(open_bus("memory://?partitions=4")).options.partitions
4
"""

from __future__ import annotations

import importlib
from dataclasses import fields
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from sightwire.bus.base import Bus, BusOptions

# scheme -> (module, async factory taking (url without query, options), package)
KINDS: dict[str, tuple[str, str, str]] = {
    "memory": ("sightwire.bus.memory", "open_memory", ""),
    "nats": ("sightwire.bus.nats", "open_nats", "nats-py"),
    "kafka": ("sightwire.bus.kafka", "open_kafka", "aiokafka"),
    "redis": ("sightwire.bus.redis", "open_redis", "redis"),
}


class BusUnavailableError(RuntimeError):
    """A transport whose client library is not installed."""


def parse_options(query: str) -> BusOptions:
    """``BusOptions`` from a URL query; unknown names are refused."""
    types = {field.name: field.type for field in fields(BusOptions)}
    values: dict[str, Any] = {}
    for name, text in parse_qsl(query, keep_blank_values=True):
        if name not in types:
            raise ValueError(f"bus URL: unknown option {name!r} (known: {', '.join(types)})")
        kind = types[name]
        try:
            values[name] = int(text) if kind == "int" else float(text) if kind == "float" else text
        except ValueError:
            raise ValueError(f"bus URL: {name}={text!r} is not a {kind}") from None
    return BusOptions(**values)


async def open_bus(url: str) -> Bus:
    """Connect to the bus ``url`` names."""
    parts = urlsplit(url)
    if parts.scheme not in KINDS:
        raise ValueError(f"{url}: a bus URL starts with {', '.join(k + '://' for k in KINDS)}")
    options = parse_options(parts.query)
    module_name, factory_name, package = KINDS[parts.scheme]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise BusUnavailableError(
            f"{parts.scheme}:// needs {exc.name}: pip install {package or exc.name}"
        ) from exc
    bare = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return cast(Bus, await getattr(module, factory_name)(bare, options))
