"""Who is calling and what they may do: roles, API keys, OIDC tokens, the audit trail.

- :mod:`.principal`: ``Role``, ``Principal``, ``AuthError`` (no I/O; import freely).
- :mod:`.keys`: ``ApiKeyStore`` (hashed, scoped API keys).
- :mod:`.oidc` / :mod:`.jwks`: ``OidcVerifier`` (bearer tokens against a provider's JWKS).
- :mod:`.audit` / :mod:`.audit_chain`: ``AuditTrail`` (append-only, hash-chained).
- :mod:`.tls`: ``uvicorn_ssl_kwargs`` (HTTPS and mutual TLS).
- :mod:`.tables`: their SQLAlchemy tables (migration ``0002``).

The submodules load SQLAlchemy, httpx and PyJWT; this package alone loads none.
See docs/security.md.
"""

from sightwire.security.principal import AuthError, Principal, Role

__all__ = ["AuthError", "Principal", "Role"]
