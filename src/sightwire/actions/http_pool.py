"""Keep-alive HTTP clients on aiohttp: webhooks, HTTP actions, Slack and rule lookups.

httpx costs 0.6–2 ms of CPU per request here (its connection pool polls every pooled
socket on each request; httpcore retries a failed ``import sniffio`` each time), which
alone caps one process below 2,000 webhooks/s. aiohttp's C parser and pool take about
0.1 ms. :meth:`HttpPool.send` maps an answer with
:func:`~sightwire.actions.delivery.answer_result`, so every action reads its results
the same way; :meth:`HttpPool.read` returns status and body for lookups.

Each pool has one session, made lazily on the loop that first uses it (actions are
built before the event loop runs); ``tls`` (a :class:`ClientTlsConfig`) becomes the
session's SSL context. Requests are logged at DEBUG on ``sightwire.http``, a logger
whose records have registered secrets masked (:mod:`sightwire.actions.redact`).

>>> # pool = HttpPool(timeout_s=5.0, tls=ClientTlsConfig(ca="plant-ca.pem"))
>>> # result = await pool.post("https://erp/hook", body, headers)
>>> # await pool.close()
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import urllib.request
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from sightwire.actions.base import ActionResult
from sightwire.actions.delivery import USER_AGENT, answer_result, refused
from sightwire.actions.redact import scrub
from sightwire.config.security import ClientTlsConfig

log = logging.getLogger("sightwire.http")
_DETAIL_BYTES = 300
# Errors that say the request itself is wrong (retrying cannot help); every other
# client error (refused, reset, a garbled answer) may pass.
_FINAL = (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError, ValueError)
# A certificate the client does not trust stays untrusted until someone acts: final.
_CERTIFICATE = (aiohttp.ClientConnectorCertificateError, aiohttp.ServerFingerprintMismatch)
_HOSTNAME_MISMATCH = 62  # X509_V_ERR_HOSTNAME_MISMATCH


class AnswerTooLargeError(Exception):
    """An answer longer than the caller accepts (see :meth:`HttpPool.read`)."""


class HttpPool:
    """Requests over pooled keep-alive connections, one session per pool."""

    def __init__(self, timeout_s: float, tls: ClientTlsConfig | None = None) -> None:
        self.timeout_s = timeout_s
        self.tls = tls
        self._ssl: ssl.SSLContext | None = None
        if tls is not None:  # made now: a bad path is a config error, not a failed send
            from sightwire.security.tls import ssl_context

            self._ssl = ssl_context(tls)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._proxies: dict[str, str | None] = {}

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else True)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),  # asyncio.timeout bounds a call
                headers={"user-agent": USER_AGENT},
                auto_decompress=False,
            )
            self._loop = loop
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> ActionResult:
        """One POST (the webhook's); see :meth:`send`."""
        return await self.send("POST", url, body, headers)

    async def send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: Mapping[str, str],
        secrets: Iterable[str] = (),
    ) -> ActionResult:
        """Send one request, all of it (connect, upload, answer) within ``timeout_s``;
        never raises. ``secrets`` are masked in the result's detail."""
        timeout = self.timeout_s
        try:
            target = _checked(url)
            async with (
                asyncio.timeout(timeout),
                self._client().request(
                    method,
                    target,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    proxy=self._proxy(url),
                ) as response,
            ):
                head = await _read_head(response)
                status, reason = response.status, response.reason or ""
                _log(method, url, status, secrets)
                return answer_result(status, reason, response.headers, head, secrets)
        except _CERTIFICATE as exc:
            return ActionResult(ok=False, retryable=False, detail=_tls_detail(exc, secrets))
        except _FINAL as exc:  # after the certificate's: that is a ValueError too
            return refused(exc, secrets)
        except (TimeoutError, aiohttp.ServerTimeoutError):
            return ActionResult(ok=False, retryable=True, detail=f"no answer within {timeout:g} s")
        except aiohttp.ClientConnectorError as exc:  # named as httpx named it, for the log
            return ActionResult(ok=False, detail=scrub(f"ConnectError: {exc}", secrets))
        except (aiohttp.ClientError, OSError) as exc:
            return ActionResult(ok=False, detail=scrub(f"{type(exc).__name__}: {exc}", secrets))

    async def read(
        self, url: str, headers: Mapping[str, str], max_bytes: int, timeout_s: float
    ) -> tuple[int, bytes]:
        """GET ``url``: its status and body (a lookup's). Raises TimeoutError,
        :class:`AnswerTooLargeError` past ``max_bytes``, aiohttp's errors and ValueError
        (a bad URL); the body of an answer other than 200 is not read."""
        async with (
            asyncio.timeout(timeout_s),
            self._client().get(
                _checked(url), headers=headers, allow_redirects=False, proxy=self._proxy(url)
            ) as response,
        ):
            _log("GET", url, response.status, ())
            if response.status != 200:
                return response.status, b""
            body = bytearray()
            async for chunk in response.content.iter_chunked(65536):
                body += chunk
                if len(body) > max_bytes:
                    raise AnswerTooLargeError(f"answer larger than {max_bytes} bytes")
            return response.status, bytes(body)

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


PostPool = HttpPool  # the webhook's name for it


def describe(exc: BaseException, timeout_s: float) -> str:
    """A short text for a failed :meth:`HttpPool.read` (a lookup's error attribute)."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return f"timeout after {timeout_s:g} s"
    if isinstance(exc, _CERTIFICATE):
        return _tls_detail(exc, ())
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"ConnectError: {exc}"
    if isinstance(exc, aiohttp.ClientError):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc) or type(exc).__name__


def _checked(url: str) -> URL:
    """``url`` parsed, its port read: a bad one raises ValueError ("Port could not be
    cast...") here, with the reason, rather than aiohttp's bare "invalid URL"."""
    parsed = URL(url)
    _ = parsed.port
    return parsed


def _tls_detail(exc: BaseException, secrets: Iterable[str]) -> str:
    reason = getattr(exc, "certificate_error", exc)
    if getattr(reason, "verify_code", None) == _HOSTNAME_MISMATCH:
        advice = "the certificate names another host; fix the URL or set tls.server_name"
    else:
        advice = "set tls.ca to the CA that signed it"
    return scrub(f"TLS: the server's certificate is not trusted ({reason}); {advice}", secrets)


def _log(method: str, url: str, status: int, secrets: Iterable[str]) -> None:
    if log.isEnabledFor(logging.DEBUG):
        log.debug("HTTP %s %s: %d", method, scrub(url, secrets), status)


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
