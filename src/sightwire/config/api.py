"""Config of the REST API: ``api:`` — where it listens, who may call it, its limits.

>>> ApiConfig().port, ApiConfig().cors_origins
(8080, [])
>>> ApiConfig.model_validate({"port": 8443, "tls": {"cert": "c.pem", "key": "k.pem"}}).tls.cert
PosixPath('c.pem')
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from sightwire.config.base import StrictModel
from sightwire.config.security import OidcConfig, TlsConfig


class ApiConfig(StrictModel):
    """``sightwire serve``: the HTTP API, its sign-in methods and its limits."""

    host: str = Field("127.0.0.1", description="Address to listen on (0.0.0.0: every interface)")
    port: int = Field(8080, ge=0, le=65535, description="Port to listen on (0: any free port)")
    keys: bool = Field(True, description="Accept API keys (`sightwire keys create ...`)")
    oidc: OidcConfig | None = Field(None, description="Also accept OIDC bearer tokens")
    tls: TlsConfig | None = Field(None, description="Serve HTTPS (and mutual TLS with client_ca)")
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API; empty: none (CORS closed)",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body, uploads excepted (413 beyond)"
    )
    max_upload_bytes: int = Field(
        25 * 1_048_576, ge=1024, description="Largest upload request, every file together"
    )
    max_upload_files: int = Field(16, ge=1, le=1000, description="Most images in one upload")
    max_image_pixels: int = Field(
        40_000_000, ge=1, description="Largest uploaded image, width × height (422 beyond)"
    )
    uploads_per_minute: int = Field(
        120, ge=1, description="Images each caller may upload per minute (429 beyond)"
    )
    metrics_token: SecretStr | None = Field(
        None,
        description="Bearer token a Prometheus scraper may use for /metrics instead of an "
        "API key; unset: /metrics needs a viewer key or token",
    )
    docs: bool = Field(True, description="Serve the OpenAPI spec and its page at /api/docs")
    sse_keepalive_s: float = Field(
        15.0, gt=0, le=300, description="Comment line sent on a quiet event stream this often"
    )
