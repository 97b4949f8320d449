"""A tiny OIDC provider on localhost: a discovery document, a JWKS, and token signing.

Keys can be added and removed while it runs (rotation); ``jwks_hits`` counts fetches.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

AUDIENCE = "sightwire"


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


def _handler(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/realm/.well-known/openid-configuration":
                provider.discovery_hits += 1
                host = provider.issuer.removesuffix("/realm")
                body: dict[str, Any] = {"issuer": provider.issuer, "jwks_uri": f"{host}/jwks"}
            elif self.path == "/jwks":
                provider.jwks_hits += 1
                body = provider.jwks()
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def serve_provider() -> Iterator[Provider]:
    """A provider on a free localhost port, with an RSA key ``k1``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    provider = Provider(server.server_address[1])
    server.RequestHandlerClass = _handler(provider)
    provider.add_rsa("k1")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
