"""An OIDC provider's signing keys (JWKS), fetched, parsed and kept fresh.

Keys are fetched on first use, again every ``jwks_refresh_s``, and at once when a
token names a ``kid`` the set lacks (a provider rotated its keys), but never twice
within ``jwks_min_interval_s``: a flood of tokens with made-up ``kid`` values costs
the provider one request per interval. When a fetch fails the keys already held stay
in use.

>>> # keys = JwksKeys(OidcConfig(issuer="https://id.example.com", audience="sightwire"))
>>> # keys.find("key-2024", "RS256")   # PyJWK objects able to check that token
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from sightwire.config.security import ASYMMETRIC_ALGORITHMS, OidcConfig
from sightwire.security.documents import discovery_url, provider_document

__all__ = ["JwksError", "JwksKeys", "SigningKey"]

log = logging.getLogger(__name__)
_CURVES = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class JwksError(Exception):
    """The provider's keys could not be fetched or read; the message says why."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One provider key, ready to check tokens signed with ``algorithm``."""

    kid: str | None
    algorithm: str
    key: jwt.PyJWK


class JwksKeys:
    """The signing keys of the provider ``config`` names; safe to share across threads."""

    def __init__(
        self,
        config: OidcConfig,
        *,
        http_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        client: httpx.Client | None = None,
    ) -> None:
        self._config = config
        self._algorithms = [a for a in config.algorithms if a in ASYMMETRIC_ALGORITHMS]
        self._clock = clock
        self._http = client or httpx.Client(timeout=http_timeout_s, follow_redirects=False)
        self._keys: list[SigningKey] = []
        self._fetched_at: float | None = None  # last successful fetch
        self._tried_at: float | None = None  # last attempt, successful or not
        self._jwks_url = config.jwks_url
        self._lock = threading.Lock()
        self.fetches = 0
        """How many times the keys were fetched (for metrics and tests)."""

    def find(self, kid: str | None, algorithm: str) -> list[SigningKey]:
        """Keys that may have signed a token with this ``kid`` and ``algorithm``.

        Raises :class:`JwksError` when no keys could be fetched at all.
        """
        now = self._clock()
        if self._fetched_at is None or now - self._fetched_at >= self._config.jwks_refresh_s:
            self._fetch(now, "due")
        found = _matching(self._keys, kid, algorithm)
        if not found and kid is not None and not any(k.kid == kid for k in self._keys):
            self._fetch(now, "unknown kid")  # rotated keys show up here
            found = _matching(self._keys, kid, algorithm)
        if not self._keys:
            raise JwksError("the provider's signing keys are unavailable")
        return found

    def refresh(self) -> None:
        """Fetch the keys now (at start-up, say); :class:`JwksError` on failure."""
        with self._lock:
            self._tried_at = self._clock()
            self._load()

    def close(self) -> None:
        self._http.close()

    def _fetch(self, now: float, why: str) -> None:
        with self._lock:
            tried = self._tried_at
            if tried is not None and now - tried < self._config.jwks_min_interval_s:
                return  # rate limit: another thread fetched, or the last try was recent
            self._tried_at = now
            try:
                self._load()
            except JwksError as exc:
                log.warning("OIDC keys not refreshed (%s): %s", why, exc)

    def _load(self) -> None:
        url = self._jwks_url or self._discover()
        keys = _parse(self._get(url), self._algorithms)
        self.fetches += 1
        self._keys, self._fetched_at, self._jwks_url = keys, self._clock(), url
        log.info("OIDC: %d signing keys from %s", len(keys), url)

    def _discover(self) -> str:
        issuer = self._config.issuer
        document = self._get(discovery_url(issuer))
        if document.get("issuer") != issuer:  # OIDC Discovery 1.0, section 4.3
            raise JwksError(f"the discovery document names issuer {document.get('issuer')!r}")
        url = document.get("jwks_uri")
        if not isinstance(url, str) or not _safe_url(url):
            raise JwksError(f"discovery gave no https:// jwks_uri: {url!r}")
        return url

    def _get(self, url: str) -> dict[str, Any]:
        return provider_document(self._http, url, JwksError)


def _parse(jwks: dict[str, Any], algorithms: list[str]) -> list[SigningKey]:
    """Every (key, algorithm) pair the config allows; unusable keys are skipped."""
    keys: list[SigningKey] = []
    for data in jwks.get("keys") or []:
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        for algorithm in algorithms:
            if _fits(data, algorithm):
                try:
                    keys.append(SigningKey(data.get("kid"), algorithm, jwt.PyJWK(data, algorithm)))
                except (jwt.PyJWTError, ValueError, TypeError) as exc:
                    log.warning("OIDC: skipping key %r: %s", data.get("kid"), exc)
    if not keys:
        raise JwksError(f"no usable signing key for {algorithms}")
    return keys


def _fits(data: dict[str, Any], algorithm: str) -> bool:
    """Whether a JWK may check ``algorithm`` (never an ``oct``, i.e. shared-secret, key)."""
    if data.get("alg") not in (None, algorithm):
        return False
    kty = data.get("kty")
    if algorithm[:2] in ("RS", "PS"):
        return kty == "RSA"
    if algorithm in _CURVES:
        return kty == "EC" and data.get("crv") == _CURVES[algorithm]
    return algorithm == "EdDSA" and kty == "OKP"


def _matching(keys: list[SigningKey], kid: str | None, algorithm: str) -> list[SigningKey]:
    # A token without a kid may be checked against every key of its algorithm.
    return [k for k in keys if k.algorithm == algorithm and (kid is None or k.kid == kid)]


def _safe_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (
        parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    )
