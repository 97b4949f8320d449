"""What an HTTP answer means for a delivery, shared by the HTTP-based actions (the
requests themselves go through :mod:`sightwire.actions.http_pool`).

- 2xx: delivered.
- 408, 429, 5xx, timeouts, refused or dropped connections: worth retrying.
- 3xx and other 4xx: retrying cannot help (fix the URL, the token or the payload).

A ``Retry-After`` answer (429/503) is in the result's ``retry_after_s`` for the
dispatcher to honour, and named in the detail as ``retry-after=SECONDS``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterable, Mapping

from sightwire.actions.base import ActionResult
from sightwire.actions.redact import scrub

USER_AGENT = "sightwire/0.1"
_DETAIL_BYTES = 300
_RETRYABLE_4XX = frozenset({408, 425, 429})


def refused(exc: Exception, secrets: Iterable[str] = ()) -> ActionResult:
    """A request that could not even be built (a bad URL, a missing field): final."""
    return ActionResult(ok=False, retryable=False, detail=scrub(str(exc), secrets))


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
