"""A tiny OIDC provider on localhost: a discovery document, a JWKS, and token signing.

Keys can be added and removed while it runs (rotation); ``jwks_hits`` counts fetches.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "sightwire"
P = TypeVar("P", bound="Provider")


class Provider:
    """Signing keys by kid, served as a JWKS at ``/jwks`` with discovery at the issuer."""

    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}/realm"
        self.keys: dict[str, PrivateKeyTypes] = {}
        self.jwks_hits = 0
        self.discovery_hits = 0
        self._lock = threading.Lock()

    def add_rsa(self, kid: str) -> rsa.RSAPrivateKey:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys[kid] = key
        return key

    def add_ec(self, kid: str) -> ec.EllipticCurvePrivateKey:
        key = ec.generate_private_key(ec.SECP256R1())
        self.keys[kid] = key
        return key

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``: where the provider's endpoints live."""
        return self.issuer.removesuffix("/realm")

    def discovery(self) -> dict[str, Any]:
        """The discovery document (subclasses add endpoints)."""
        return {"issuer": self.issuer, "jwks_uri": f"{self.base}/jwks"}

    def jwks(self) -> dict[str, Any]:
        entries = []
        for kid, key in list(self.keys.items()):
            if isinstance(key, rsa.RSAPrivateKey):
                jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            else:
                assert isinstance(key, ec.EllipticCurvePrivateKey)
                jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
            entries.append({**jwk, "kid": kid, "use": "sig"})
        return {"keys": entries}

    def token(
        self,
        kid: str | None = "k1",
        *,
        key: Any = None,
        algorithm: str | None = None,
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A token signed by ``kid``'s key (or ``key``); claims default to valid ones."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "ana",
            "iat": now,
            "exp": now + 300,
            "roles": ["operator"],
        }
        body |= claims
        body = {k: v for k, v in body.items() if v is not None}
        signing = key if key is not None else self.keys[kid or "k1"]
        alg = algorithm or ("RS256" if isinstance(signing, rsa.RSAPrivateKey) else "ES256")
        head = {**({"kid": kid} if kid else {}), **(headers or {})}
        return jwt.encode(body, signing, algorithm=alg, headers=head)


class ProviderHandler(BaseHTTPRequestHandler):
    """Discovery and JWKS of ``provider``; a subclass may serve more endpoints."""

    provider: Provider  # set per server by :func:`handler_for`

    def do_GET(self) -> None:
        if self.path == "/realm/.well-known/openid-configuration":
            self.provider.discovery_hits += 1
            body: dict[str, Any] = self.provider.discovery()
        elif self.path == "/jwks":
            self.provider.jwks_hits += 1
            body = self.provider.jwks()
        else:
            self.send_error(404)
            return
        self.send_json(200, body)

    def send_json(self, status: int, body: dict[str, Any], *headers: tuple[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def handler_for(
    provider: Provider, base: type[ProviderHandler] = ProviderHandler
) -> type[ProviderHandler]:
    """``base`` bound to ``provider``."""
    return type("Handler", (base,), {"provider": provider})


@contextmanager
def serve_provider() -> Iterator[Provider]:
    """A provider on a free localhost port, with an RSA key ``k1``."""
    with serve(Provider, handler_for) as provider:
        yield provider


@contextmanager
def serve(
    make: Callable[[int], P], handler: Callable[[P], type[BaseHTTPRequestHandler]]
) -> Iterator[P]:
    """``make(port)`` answered by ``handler(provider)`` on a free localhost port, with
    an RSA key ``k1``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    provider = make(server.server_address[1])
    server.RequestHandlerClass = handler(provider)
    provider.add_rsa("k1")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
