"""Lookups: external data a rule fetches about an object (HTTP GET of JSON).

The URL is a template whose ``{name}`` parts are filled from the object's fields
(data columns such as ``barcode``, ``class``, ``track_id``), ``camera``, ``zone`` and
``line``, URL-encoded; ``{barcode|text}`` takes the first that is set. Answers are
cached for ``cache_s`` (one request per URL however many objects ask at once); a
circuit breaker stops calling a failing service for a while. A lookup never raises:
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

import httpx

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
    """One configured lookup, sharing an :class:`httpx.AsyncClient` with others."""

    def __init__(
        self,
        name: str,
        config: LookupConfig,
        client: httpx.AsyncClient | None = None,
        clock: Clock = time.time,
    ) -> None:
        url_fields(config.url)  # refuse a bad template now
        self.name = name
        self.config = config
        self.client = client
        self._owns_client = client is None
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
            client = self.client = httpx.AsyncClient()
        timeout = self.config.timeout_s
        async with asyncio.timeout(timeout):
            request = client.stream("GET", url, headers=self.config.headers, timeout=timeout)
            async with request as response:
                if 400 <= response.status_code < 500 and response.status_code != 429:
                    raise LookupFailedError(f"HTTP {response.status_code}")
                if response.status_code != 200:
                    raise _ServiceError(f"HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.config.max_bytes:
                        raise _ServiceError(f"answer larger than {self.config.max_bytes} bytes")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise _ServiceError(f"broken JSON ({exc})") from None

    async def aclose(self) -> None:
        """Close the HTTP client if this lookup made it."""
        if self._owns_client and self.client is not None:
            await self.client.aclose()
            self.client = None


class _ServiceError(Exception):
    """The service misbehaved (counts against the breaker)."""


def _describe(exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, (TimeoutError, httpx.TimeoutException)):
        return f"timeout after {timeout_s:g} s"
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc) or type(exc).__name__
