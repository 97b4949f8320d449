"""Limits and hardening around every request: body size, upload rate, security headers.

``BodyLimit`` refuses a body larger than allowed with 413, whether it announces its
length or streams it (the count stops reading at the limit). ``RateLimiter`` is a
token bucket per caller. ``SecurityHeaders`` adds the headers browsers look for.

>>> limiter = RateLimiter(per_minute=2, clock=lambda: 0.0)
>>> limiter.take("key:a", 2), limiter.take("key:a", 1)
(0.0, 30.0)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sightwire.api.problems import PROBLEM_JSON, ApiError


class RateLimiter:
    """A token bucket per caller: ``per_minute`` tokens, refilled continuously."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, caller: str, count: int = 1) -> float:
        """Take ``count`` tokens; 0 when granted, else seconds until they would be."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(caller, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if count <= tokens:
                self._buckets[caller] = (tokens - count, now)
                return 0.0
            self._buckets[caller] = (tokens, now)
            if count > self.capacity:
                return 60.0
            return (count - tokens) / self.rate


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """The largest body in general, and for the routes that take uploads."""

    default: int
    uploads: int
    upload_suffix: str = "/frames"


class BodyLimit:
    """ASGI middleware: 413 for a request body over the limit of its route."""

    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = (
            self.limits.uploads if path.endswith(self.limits.upload_suffix) else self.limits.default
        )
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _send_413(send, path, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # FastAPI re-raises HTTPException from body parsing
                    raise HTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except HTTPException as exc:
            if exc.status_code != 413 or started:
                raise
            await _send_413(send, path, limit)


async def _send_413(send: Send, path: str, limit: int) -> None:
    problem = ApiError(413, f"the request body is larger than {limit} bytes")
    body = json.dumps(problem.document(path)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
_NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """ASGI middleware: nosniff, no framing, no referrer; no caching of API answers;
    HSTS when served over HTTPS. A response that sets its own CSP keeps it (the UI's
    pages and the OpenAPI page, which need to run scripts); every other one gets the
    API's, which allows nothing. The OpenAPI page's files may be cached."""

    def __init__(self, app: ASGIApp, *, https: bool, docs_prefix: str = "/api/docs") -> None:
        self.app = app
        self.https = https
        self.docs_prefix = docs_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith(self.docs_prefix)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                wanted = [*_HEADERS, _API_CSP] if docs else [*_HEADERS, _API_CSP, _NO_STORE]
                extra = [h for h in wanted if h[0] not in names]
                if self.https:
                    extra.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, with_headers)
