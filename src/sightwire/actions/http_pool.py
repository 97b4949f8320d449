"""A keep-alive HTTP client for the delivery hot path (webhooks), on aiohttp.

httpx costs 0.6–2 ms of CPU per request here (its connection pool polls every pooled
socket on each request; httpcore retries a failed ``import sniffio`` each time), which
alone caps one process below 2,000 webhooks/s. aiohttp's C parser and pool take about
0.15 ms. The answer is mapped exactly as the httpx-based actions map theirs
(:func:`~sightwire.actions.delivery.answer_result`), so a result reads the same
whichever client made it.

The session is made lazily on the loop that first sends (actions are built before
the event loop runs) and keeps connections alive between attempts.

>>> # pool = PostPool(timeout_s=5.0)
>>> # result = await pool.post("https://erp/hook", body, headers)
>>> # await pool.close()
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp

from sightwire.actions.base import ActionResult
from sightwire.actions.delivery import USER_AGENT, answer_result, refused

_DETAIL_BYTES = 300
# Errors that say the request itself is wrong (retrying cannot help); every other
# client error (refused, reset, TLS, a garbled answer) may pass.
_FINAL = (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)


class PostPool:
    """POSTs over pooled keep-alive connections; one attempt per call, never raises."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, str | None] = {}

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None),  # asyncio.timeout below bounds it
                headers={"user-agent": USER_AGENT},
                auto_decompress=False,
            )
            self._loop = loop
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> ActionResult:
        """Send one POST; all of it (connect, upload, answer) within ``timeout_s``."""
        timeout = self.timeout_s
        try:
            async with (
                asyncio.timeout(timeout),
                self._client().post(
                    url,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    proxy=self._proxy(url),
                ) as response,
            ):
                head = await _read_head(response)
                return answer_result(response.status, response.reason or "", response.headers, head)
        except _FINAL as exc:
            return refused(exc)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return ActionResult(ok=False, retryable=True, detail=f"no answer within {timeout:g} s")
        except aiohttp.ClientConnectorError as exc:  # named as httpx names it, for the log
            return ActionResult(ok=False, detail=f"ConnectError: {exc}")
        except (aiohttp.ClientError, OSError) as exc:
            return ActionResult(ok=False, detail=f"{type(exc).__name__}: {exc}")

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for ``url`` (HTTP(S)_PROXY, NO_PROXY), as
        httpx honours them; looked up once per URL, not per request as aiohttp's
        ``trust_env`` does (it re-reads ~/.netrc each time)."""
        if url not in self._proxies:
            self._proxies[url] = _env_proxy(url)
        return self._proxies[url]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _read_head(response: aiohttp.ClientResponse) -> bytes:
    """The first few hundred bytes of the answer, for the detail (bodies can be huge).

    An answer read to its end leaves the connection reusable; a longer one is cut
    and its connection closed when the response is released.
    """
    head = b""
    while len(head) < _DETAIL_BYTES:
        chunk = await response.content.read(_DETAIL_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    return head


def _env_proxy(url: str) -> str | None:
    parts = urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies().get(parts.scheme)
