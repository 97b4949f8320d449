"""The identity provider's endpoints the browser sign-in needs, from its discovery
document: where to send the user (``authorization_endpoint``) and where the page
trades the code for tokens (``token_endpoint``).

Read on first use and kept for ``jwks_refresh_s``; when the provider cannot be
reached the endpoints already known stay in use, and a failed read is not retried
within ``jwks_min_interval_s`` (a page load must not hang on a down provider each time).

>>> # endpoints = ProviderEndpoints.discover(config.api.oidc)   # or raises DiscoveryError
>>> # endpoints.token_origin                                     # "https://login.example.com"
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from sightwire.config.security import OidcConfig, secure_url
from sightwire.security.documents import discovery_url, provider_document

__all__ = ["Discovery", "DiscoveryError", "ProviderEndpoints", "origin"]

log = logging.getLogger(__name__)
_TIMEOUT_S = 3.0  # a page waits on this at most once per jwks_min_interval_s
# An origin goes into a CSP header: only characters a host and port can hold.
_NETLOC = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


class DiscoveryError(Exception):
    """The provider's discovery document could not be read or used; says why."""


def origin(url: str) -> str:
    """``scheme://host[:port]`` of an https:// (or loopback http://) URL.

    >>> origin("https://login.example.com:8443/realms/plant/token")
    'https://login.example.com:8443'
    """
    parts = urlsplit(url)
    if not secure_url(url) or parts.username or parts.password or not _NETLOC.match(parts.netloc):
        raise DiscoveryError(f"{url!r} is not an https:// URL (http:// only on localhost)")
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class ProviderEndpoints:
    """Where the browser goes to sign in, and where it redeems the code."""

    authorization_endpoint: str
    token_endpoint: str
    response_mode: str = "fragment"
    """How the code comes back: in the fragment when the provider can (it never
    reaches a server, so no access log or proxy log holds it), else in the query."""

    @property
    def token_origin(self) -> str:
        """The origin the callback page must be allowed to ``fetch`` (its CSP)."""
        return origin(self.token_endpoint)

    @classmethod
    def from_document(cls, document: dict[str, Any], issuer: str) -> ProviderEndpoints:
        # OIDC Discovery 1.0, 4.3: a document for another issuer is not this provider's.
        if document.get("issuer") != issuer:
            raise DiscoveryError(f"the discovery document names issuer {document.get('issuer')!r}")
        found: dict[str, str] = {}
        for name in ("authorization_endpoint", "token_endpoint"):
            url = document.get(name)
            if not isinstance(url, str):
                raise DiscoveryError(f"the discovery document has no {name}")
            origin(url)  # raises unless https:// (or loopback)
            found[name] = url
        # OIDC Discovery 1.0, 3: left out, response_modes_supported is query and fragment.
        modes = document.get("response_modes_supported", ["query", "fragment"])
        mode = "fragment" if isinstance(modes, list) and "fragment" in modes else "query"
        return cls(found["authorization_endpoint"], found["token_endpoint"], mode)

    @classmethod
    def discover(cls, config: OidcConfig, timeout_s: float = _TIMEOUT_S) -> ProviderEndpoints:
        with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
            document = provider_document(client, discovery_url(config.issuer), DiscoveryError)
        return cls.from_document(document, config.issuer)


class Discovery:
    """The endpoints of ``config``'s provider, cached; safe to share across threads."""

    def __init__(
        self,
        config: OidcConfig,
        *,
        fetch: Callable[[OidcConfig], ProviderEndpoints] = ProviderEndpoints.discover,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._fetch = fetch
        self._clock = clock
        self._endpoints: ProviderEndpoints | None = None
        self._fetched_at: float | None = None
        self._tried_at: float | None = None
        self._lock = threading.Lock()

    def endpoints(self) -> ProviderEndpoints | None:
        """The endpoints, or None while the provider has never answered usefully."""
        with self._lock:
            now = self._clock()
            due = self._fetched_at is None or now - self._fetched_at >= self._config.jwks_refresh_s
            resting = self._tried_at is not None and (
                now - self._tried_at < self._config.jwks_min_interval_s
            )
            if due and not resting:
                self._tried_at = now
                try:
                    self._endpoints = self._fetch(self._config)
                    self._fetched_at = now
                except DiscoveryError as exc:
                    log.warning("OIDC sign-in: provider endpoints not read: %s", exc)
            return self._endpoints
