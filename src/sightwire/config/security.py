"""Config of sign-in and transport security: OIDC bearer tokens and TLS.

>>> OidcConfig(issuer="https://id.example.com/", audience="sightwire").algorithms
['RS256', 'ES256']
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from sightwire.config.base import StrictModel

RoleName = Literal["viewer", "operator", "admin"]


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


class TlsConfig(StrictModel):
    """Serve HTTPS; with ``client_ca``, require client certificates (mutual TLS)."""

    cert: Path = Field(description="PEM certificate chain")
    key: Path = Field(description="PEM private key")
    client_ca: Path | None = Field(
        default=None, description="PEM CA bundle; when set, clients must present a certificate"
    )
