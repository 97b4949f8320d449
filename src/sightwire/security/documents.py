"""Reading an OpenID provider's JSON documents (discovery, JWKS), for the token check
(``security/jwks.py``) and the browser sign-in (``web/provider.py``) alike: no
redirects, a size bound, a JSON object or a clear error.

>>> discovery_url("https://login.example.com/realms/site/")
'https://login.example.com/realms/site/.well-known/openid-configuration'
>>> # document = provider_document(httpx.Client(timeout=5), url, error=JwksError)
"""

from __future__ import annotations

from typing import Any

import httpx

MAX_DOCUMENT = 1 << 20  # a discovery document or a JWKS is a few KiB


def discovery_url(issuer: str) -> str:
    """Where OIDC Discovery 1.0 (section 4) puts ``issuer``'s configuration."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def provider_document(client: httpx.Client, url: str, error: type[Exception]) -> dict[str, Any]:
    """The JSON object at ``url``; raises ``error`` saying why it is not one."""
    try:
        response = client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > MAX_DOCUMENT:
            raise error(f"{url}: document larger than {MAX_DOCUMENT} bytes")
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise error(f"{url}: {exc}") from None
    if not isinstance(document, dict):
        raise error(f"{url}: not a JSON object")
    return document
