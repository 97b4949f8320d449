"""One HTTP delivery attempt and what its answer means, shared by the HTTP-based actions.

- 2xx: delivered.
- 408, 429, 5xx, timeouts, refused or dropped connections: worth retrying.
- 3xx and other 4xx: retrying cannot help (fix the URL, the token or the payload).

A ``Retry-After`` answer (429/503) is in the result's ``retry_after_s`` for the
dispatcher to honour, and named in the detail as ``retry-after=SECONDS``.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Iterable, Mapping

import httpx

from sightwire.actions.base import ActionResult
from sightwire.actions.redact import scrub

USER_AGENT = "sightwire/0.1"
_DETAIL_BYTES = 300
_RETRYABLE_4XX = frozenset({408, 425, 429})


def new_client(timeout_s: float) -> httpx.AsyncClient:
    """A pooled client for one action: no redirects followed, keep-alive reused."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        headers={"user-agent": USER_AGENT},
    )


async def attempt(
    client: httpx.AsyncClient,
    request: httpx.Request,
    timeout_s: float,
    secrets: Iterable[str] = (),
) -> ActionResult:
    """Send ``request`` once, all of it (connect, upload, answer) within ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            response = await client.send(request, stream=True)
            try:
                head = await _read_head(response)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        return ActionResult(ok=False, retryable=True, detail=f"no answer within {timeout_s:g} s")
    except httpx.TransportError as exc:  # refused, reset, DNS, TLS, protocol errors
        retryable = not isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError)
        detail = scrub(f"{type(exc).__name__}: {exc}", secrets)
        return ActionResult(ok=False, retryable=retryable, detail=detail)
    return result_of(response, head, secrets)


def refused(exc: Exception, secrets: Iterable[str] = ()) -> ActionResult:
    """A request that could not even be built (a bad URL, a missing field): final."""
    return ActionResult(ok=False, retryable=False, detail=scrub(str(exc), secrets))


def result_of(response: httpx.Response, head: bytes, secrets: Iterable[str] = ()) -> ActionResult:
    """Map an HTTP answer to an :class:`ActionResult`."""
    return answer_result(
        response.status_code, response.reason_phrase, response.headers, head, secrets
    )


def answer_result(
    status: int,
    reason: str,
    headers: Mapping[str, str],
    head: bytes,
    secrets: Iterable[str] = (),
) -> ActionResult:
    """Map an HTTP answer (status, reason, headers, first bytes of the body) to a result,
    whichever client library received it."""
    detail = f"HTTP {status} {reason}".rstrip()
    body = head.decode("utf-8", "replace").strip()
    if body:
        detail += f": {body[:_DETAIL_BYTES]}"
    if 300 <= status < 400:
        detail += f"; redirected to {headers.get('location', '?')}: use the final URL"
    wait = retry_after_s(headers.get("retry-after"))
    if wait is not None:
        detail += f"; retry-after={wait:g}"
    ok = 200 <= status < 300
    retryable = not ok and (status >= 500 or status in _RETRYABLE_4XX)
    return ActionResult(
        ok=ok,
        retryable=retryable,
        status_code=status,
        detail=scrub(detail, secrets),
        retry_after_s=wait,
    )


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date).

    >>> retry_after_s("30"), retry_after_s("Thu, 01 Jan 1970 00:01:00 GMT", now=0.0)
    (30.0, 60.0)
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


async def _read_head(response: httpx.Response) -> bytes:
    """The first few hundred bytes of the answer, for the detail (bodies can be huge)."""
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) >= _DETAIL_BYTES:
            break
    return head[:_DETAIL_BYTES]
