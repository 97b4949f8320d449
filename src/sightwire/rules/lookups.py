"""Lookups: external data a rule fetches about an object (HTTP GET of JSON).

The URL is a template whose ``{name}`` parts are filled from the object's fields
(data columns such as ``barcode``, ``class``, ``track_id``), ``camera``, ``zone`` and
``line``, URL-encoded; ``{barcode|text}`` takes the first that is set. Answers are
cached for ``cache_s`` (one request per URL however many objects ask at once); a
circuit breaker stops calling a failing service for a while. Requests go through the
aiohttp pool of the actions (:class:`~sightwire.actions.http_pool.HttpPool`), one
shared by the engine's lookups; a lookup with ``tls:`` has its own (its SSL
context). A lookup never raises:
every failure (a missing field, a timeout, HTTP 404, a broken JSON body, an open
breaker) comes back as :attr:`LookupResult.error`, a short text.

>>> from sightwire.config.rules import LookupConfig
>>> manifest = Lookup("manifest", LookupConfig(url="http://wms/parcels/{barcode|text}"))
>>> manifest.url_for({"barcode": "", "text": "1Z 99"})
'http://wms/parcels/1Z%2099'
>>> # result = await manifest.fetch({"barcode": "1Z99"}); result.value or result.error
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sightwire.actions.http_pool import AnswerTooLargeError, HttpPool, describe
from sightwire.config.rules import LookupConfig
from sightwire.rules.breaker import CircuitBreaker, Clock, TtlCache

_FIELD = re.compile(r"\{([^{}]*)\}")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LookupFailedError(Exception):
    """Why a lookup has no answer (becomes ``lookup_error``)."""


@dataclass(frozen=True, slots=True)
class LookupResult:
    """A lookup's answer (``value``, parsed JSON) or why there is none (``error``)."""

    value: Any = None
    error: str | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


def url_fields(template: str) -> list[list[str]]:
    """The placeholders of a URL template, each a list of alternatives.

    >>> url_fields("http://wms/{site}/parcels/{barcode|text}")
    [['site'], ['barcode', 'text']]
    """
    fields = []
    for match in _FIELD.finditer(template):
        names = [n.strip() for n in match.group(1).split("|")]
        if not all(_NAME.match(n) for n in names):
            raise ValueError(f"{{{match.group(1)}}} is not a field name (or names joined by |)")
        fields.append(names)
    return fields


def _filled(value: Any) -> bool:
    return value is not None and value != ""


class Lookup:
    """One configured lookup, sharing an :class:`HttpPool` with others (unless it has
    TLS settings of its own)."""

    def __init__(
        self,
        name: str,
        config: LookupConfig,
        client: HttpPool | None = None,
        clock: Clock = time.time,
    ) -> None:
        url_fields(config.url)  # refuse a bad template now
        self.name = name
        self.config = config
        if config.tls is not None:
            client = HttpPool(config.timeout_s, config.tls)
            self._owns_client = True
        else:
            self._owns_client = client is None
        self.client = client
        self.cache = TtlCache(config.cache_s, clock)
        self.breaker = CircuitBreaker(config.breaker.failures, config.breaker.open_s, clock)
        self.requests = 0
        self._pending: dict[str, asyncio.Task[LookupResult]] = {}

    def url_for(self, fields: Mapping[str, Any]) -> str:
        """The URL for an object with ``fields``; :class:`LookupFailedError` if one is unset."""

        def fill(match: re.Match[str]) -> str:
            names = [n.strip() for n in match.group(1).split("|")]
            for name in names:
                if _filled(fields.get(name)):
                    return quote(str(fields[name]), safe="")
            raise LookupFailedError(f"the object has no {' or '.join(names)}")

        return _FIELD.sub(fill, self.config.url)

    async def fetch(self, fields: Mapping[str, Any]) -> LookupResult:
        """The answer for an object with ``fields``: cached, shared with a request
        already on its way, or fetched now."""
        try:
            url = self.url_for(fields)
        except LookupFailedError as exc:
            return LookupResult(error=str(exc))
        marker = object()
        cached = self.cache.get(url, marker)
        if cached is not marker:
            return LookupResult(cached, cached=True)
        task = self._pending.get(url)
        if task is None:
            task = asyncio.ensure_future(self._request(url))
            self._pending[url] = task
            task.add_done_callback(lambda _: self._pending.pop(url, None))
        return await asyncio.shield(task)

    async def _request(self, url: str) -> LookupResult:
        if not self.breaker.allows():
            return LookupResult(error=f"{self.name}: circuit open after repeated failures")
        self.requests += 1
        try:
            value = await self._get(url)
        except LookupFailedError as exc:  # the service answered: 404 and the like
            self.breaker.succeeded()
            return LookupResult(error=f"{self.name}: {exc}")
        except Exception as exc:  # timeouts, refused connections, 5xx, broken JSON
            self.breaker.failed()
            return LookupResult(error=f"{self.name}: {_describe(exc, self.config.timeout_s)}")
        self.breaker.succeeded()
        self.cache.put(url, value)
        return LookupResult(value)

    async def _get(self, url: str) -> Any:
        client = self.client
        if client is None:
            client = self.client = HttpPool(self.config.timeout_s)
        config = self.config
        status, body = await client.read(url, config.headers, config.max_bytes, config.timeout_s)
        if 400 <= status < 500 and status != 429:
            raise LookupFailedError(f"HTTP {status}")
        if status != 200:
            raise _ServiceError(f"HTTP {status}")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise _ServiceError(f"broken JSON ({exc})") from None

    async def aclose(self) -> None:
        """Close the HTTP client if this lookup made it."""
        if self._owns_client and self.client is not None:
            await self.client.close()
            self.client = None


class _ServiceError(Exception):
    """The service misbehaved (counts against the breaker)."""


def _describe(exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, AnswerTooLargeError):
        return str(exc)
    return describe(exc, timeout_s)
