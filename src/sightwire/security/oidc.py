"""OAuth2/OIDC bearer tokens: checked against the provider's keys, mapped to a role.

A token passes when its signature verifies with one of the provider's keys under an
algorithm the config allows (never ``none``, never HMAC), and its ``iss``, ``aud``,
``exp`` (and ``nbf``/``iat`` when present) hold, within ``leeway_s``. Its role is the
highest of viewer/operator/admin found in ``roles_claim``; its cameras come from
``cameras_claim``.

>>> # verifier = OidcVerifier(config.security.oidc)
>>> # principal = verifier.verify(bearer_token)  # AuthError says why a token fails
>>> # principal.subject                           # "oidc:<sub>"
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from sightwire.config.security import ASYMMETRIC_ALGORITHMS, OidcConfig
from sightwire.security.jwks import JwksError, JwksKeys, SigningKey
from sightwire.security.principal import AuthError, Principal, Role

__all__ = ["OidcVerifier"]

_REQUIRED = ["exp", "iss", "aud", "sub"]
_REASONS: list[tuple[type[jwt.PyJWTError], str]] = [
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not valid yet (nbf/iat in the future)"),
    (jwt.InvalidAudienceError, "token is for another audience"),
    (jwt.InvalidIssuerError, "token is from another issuer"),
    (jwt.InvalidSignatureError, "bad signature"),
]
ALL_CAMERAS = "*"
"""A ``cameras_claim`` value that grants every camera."""


class OidcVerifier:
    """Checks bearer tokens of the provider ``config`` names.

    :meth:`verify` may fetch the provider's keys (blocking, at most ``http_timeout_s``);
    from async code use :meth:`verify_async`, or a sync FastAPI dependency (those run
    in a thread pool). Safe to share across threads.
    """

    def __init__(
        self,
        config: OidcConfig,
        *,
        http_timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        client: httpx.Client | None = None,
    ) -> None:
        unsafe = set(config.algorithms) - ASYMMETRIC_ALGORITHMS
        if unsafe:  # the config refuses these at load; a hand-built one may not have
            raise ValueError(f"algorithms {sorted(unsafe)} are never accepted")
        self._config = config
        self.keys = JwksKeys(config, http_timeout_s=http_timeout_s, clock=clock, client=client)

    def verify(self, token: str) -> Principal:
        """The caller a token names; :class:`AuthError` (reason, never the token) if none.

        >>> # OidcVerifier(config).verify("eyJhbGciOiJub25lIn0.e30.")
        >>> # AuthError: token algorithm 'none' is not accepted
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        algorithm = header.get("alg")
        if algorithm not in self._config.algorithms:
            raise AuthError(f"token algorithm {str(algorithm)[:16]!r} is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthError("malformed token: kid is not a string")
        try:
            candidates = self.keys.find(kid, algorithm)
        except JwksError as exc:
            raise AuthError(f"cannot check tokens now: {exc}") from None
        if not candidates:
            raise AuthError(f"token signed by an unknown key (kid {str(kid)[:64]!r})")
        return self._principal(self._decode(token, algorithm, candidates))

    async def verify_async(self, token: str) -> Principal:
        """:meth:`verify` in a worker thread, so a key fetch never blocks the event loop."""
        return await asyncio.to_thread(self.verify, token)

    def close(self) -> None:
        self.keys.close()

    def _decode(self, token: str, algorithm: str, keys: list[SigningKey]) -> dict[str, Any]:
        error: jwt.PyJWTError = jwt.InvalidSignatureError()
        for key in keys:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    key=key.key,
                    algorithms=[algorithm],
                    audience=self._config.audience,
                    issuer=self._config.issuer,
                    leeway=self._config.leeway_s,
                    options={"require": _REQUIRED},
                )
                return claims
            except jwt.InvalidSignatureError as exc:
                error = exc  # a token without a kid: try the next key
            except jwt.PyJWTError as exc:
                raise AuthError(_reason(exc)) from None
        raise AuthError(_reason(error))

    def _principal(self, claims: dict[str, Any]) -> Principal:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise AuthError("token has no subject")
        role = _highest_role(_values(claims, self._config.roles_claim))
        if role is None:
            if self._config.default_role is None:
                raise AuthError(f"token grants no Sightwire role in {self._config.roles_claim!r}")
            role = Role(self._config.default_role)
        return Principal(f"oidc:{subject}", role, self._cameras(claims), method="oidc")

    def _cameras(self, claims: dict[str, Any]) -> frozenset[str] | None:
        # With a cameras claim configured, a token that lacks it sees no camera: a
        # forgotten claim must not widen access. "*" grants every camera.
        if self._config.cameras_claim is None:
            return None
        cameras = _values(claims, self._config.cameras_claim)
        return None if ALL_CAMERAS in cameras else frozenset(cameras)


def _values(claims: dict[str, Any], name: str) -> list[str]:
    """A claim as a list of strings: a JSON list or a space-separated string.

    A dotted name walks nested objects (Keycloak's ``realm_access.roles``).

    >>> _values({"realm_access": {"roles": ["admin"]}}, "realm_access.roles")
    ['admin']
    >>> _values({"scope": "viewer operator"}, "scope")
    ['viewer', 'operator']
    """
    value: Any = claims
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _highest_role(values: list[str]) -> Role | None:
    roles = [Role(v) for v in values if v in Role._value2member_map_]
    return max(roles, key=lambda r: r.rank, default=None)


def _reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"token lacks the {exc.claim!r} claim"
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return f"invalid token ({type(exc).__name__})"
