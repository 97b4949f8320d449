"""Config of sign-in and transport security: OIDC bearer tokens and TLS.

>>> OidcConfig(issuer="https://id.example.com/", audience="sightwire").algorithms
['RS256', 'ES256']
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from sightwire.config.base import StrictModel

RoleName = Literal["viewer", "operator", "admin"]

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""JWS algorithms a token may use. ``none`` proves nothing, and HMAC (HS256...) would
make the provider's *public* key a shared secret: both are refused at load."""
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
# RFC 6749 3.3: a scope is printable ASCII without space, '"' or '\\'.
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")
_CLIENT_ID = re.compile(r"^[\x21-\x7e]{1,255}$")
AUTHORIZE_RESERVED = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "response_mode",
    }
)
"""Parameters of the authorization request the UI sets itself: ``authorize_params``
may not replace them (that would undo the state, nonce or PKCE checks)."""


class OidcConfig(StrictModel):
    """Accept OAuth2/OIDC bearer tokens from one provider, checked against its JWKS."""

    issuer: str = Field(description="the token's `iss`, exactly")
    audience: str = Field(description="the `aud` a token must carry")
    jwks_url: str | None = Field(
        default=None,
        description="where the signing keys are; default: the issuer's discovery document",
    )
    algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "ES256"],
        min_length=1,
        description="signature algorithms accepted; `none` and HMAC are never accepted",
    )
    roles_claim: str = Field(default="roles", description="claim listing the caller's roles")
    cameras_claim: str | None = Field(
        default=None, description="claim listing the cameras the caller may see (absent: all)"
    )
    default_role: RoleName | None = Field(
        default=None, description="role of a valid token that names none (absent: refused)"
    )
    leeway_s: float = Field(default=30.0, ge=0, le=300, description="clock skew allowed")
    jwks_refresh_s: float = Field(
        default=300.0, gt=0, description="how often keys are fetched again; unknown `kid`s force it"
    )
    jwks_min_interval_s: float = Field(
        default=10.0,
        ge=0,
        description="least time between two fetches forced by unknown `kid`s (a flood of "
        "bogus tokens cannot hammer the provider)",
    )

    client_id: str | None = Field(
        default=None,
        description="the UI's public client at the provider (authorization code flow with "
        "PKCE, no client secret); unset: the sign-in page offers no provider button",
    )
    scopes: list[str] = Field(
        default_factory=lambda: ["openid", "profile"],
        min_length=1,
        description="scopes the UI asks for; add the one that makes the provider issue a "
        "JWT access token for `audience` (Entra: `api://<app>/<scope>`)",
    )
    authorize_params: dict[str, str] = Field(
        default_factory=dict,
        description="extra query parameters of the authorization request, e.g. "
        "`{audience: sightwire}` for Auth0; the protocol's own ones cannot be replaced",
    )

    @field_validator("client_id")
    @classmethod
    def _printable_client_id(cls, client_id: str | None) -> str | None:
        if client_id is not None and not _CLIENT_ID.match(client_id):
            raise ValueError("client_id must be 1-255 printable ASCII characters, no spaces")
        return client_id

    @field_validator("scopes")
    @classmethod
    def _scope_tokens(cls, scopes: list[str]) -> list[str]:
        bad = [s for s in scopes if not _SCOPE.match(s)]
        if bad:
            raise ValueError(f"scopes {bad} are not single scope tokens (no spaces or quotes)")
        return scopes

    @field_validator("authorize_params")
    @classmethod
    def _no_protocol_params(cls, params: dict[str, str]) -> dict[str, str]:
        clashing = sorted(AUTHORIZE_RESERVED & params.keys())
        if clashing:
            raise ValueError(f"authorize_params may not set {clashing}: the UI sets them")
        return params

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, algorithms: list[str]) -> list[str]:
        refused = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if refused:
            raise ValueError(
                f"algorithms {refused} are not accepted: `none` and HMAC (HS*) let anyone "
                f"forge tokens; use {sorted(ASYMMETRIC_ALGORITHMS)}"
            )
        return algorithms

    @model_validator(mode="after")
    def _https_keys(self) -> OidcConfig:
        # Keys fetched over plain HTTP could be swapped on the way; loopback is for tests.
        url = self.jwks_url or self.issuer
        if not secure_url(url):
            raise ValueError(f"{url}: keys must come over https:// (http:// only on localhost)")
        return self


def secure_url(url: str) -> bool:
    """Whether ``url`` is https://, or http:// to this machine (for tests).

    >>> secure_url("https://id.example.com/token"), secure_url("http://127.0.0.1:8/t")
    (True, True)
    >>> secure_url("http://id.example.com/token")
    False
    """
    parts = urlsplit(url)
    return parts.scheme == "https" or (
        parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
    )


class TlsConfig(StrictModel):
    """Serve HTTPS; with ``client_ca``, require client certificates (mutual TLS)."""

    cert: Path = Field(description="PEM certificate chain")
    key: Path = Field(description="PEM private key")
    client_ca: Path | None = Field(
        default=None, description="PEM CA bundle; when set, clients must present a certificate"
    )


class ClientTlsConfig(StrictModel):
    """TLS for a connection sightwire makes: webhooks, HTTP actions, lookups, MQTT,
    PostgreSQL, and the brokers of ``bus:``.

    ``tls: {ca: /etc/sightwire/plant-ca.pem, cert: client.pem, key: client.key}``.
    Left out, a client trusts the system's CAs and presents no certificate.
    """

    ca: Path | None = Field(
        default=None, description="PEM CA bundle to trust instead of the system's"
    )
    cert: Path | None = Field(
        default=None, description="PEM client certificate (chain), for mutual TLS"
    )
    key: Path | None = Field(default=None, description="PEM private key of `cert`")
    verify: bool = Field(
        default=True,
        description="check the server's certificate and name; false only for tests "
        "(anyone on the way could read and change the traffic)",
    )
    server_name: str | None = Field(
        default=None,
        description="name to expect in the server's certificate (and send as SNI) when "
        "it differs from the host connected to",
    )

    @model_validator(mode="after")
    def _key_with_cert(self) -> ClientTlsConfig:
        if self.key is not None and self.cert is None:
            raise ValueError("`key` without `cert`: give the client certificate too")
        return self
