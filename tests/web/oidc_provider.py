"""A test OIDC provider that signs users in by the authorization code flow with PKCE.

Built on :mod:`tests.security.provider` (discovery and JWKS), it adds, on the same
real socket:

- ``GET /authorize``: checks the client and its redirect URI, records the PKCE
  challenge (S256 only), approves the test user at once and redirects back with
  ``code`` and ``state``;
- ``POST /token``: redeems a code once, checking ``redirect_uri``, ``client_id`` and
  ``code_verifier`` against the challenge; answers with a signed access token (iss,
  aud, roles) and an ID token carrying the nonce, with CORS headers for the UI's origin.

Why it refused a request is kept in ``refusals`` so that a test can tell which check
failed.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.security.provider import AUDIENCE, Provider, ProviderHandler, handler_for, serve

CODE_TTL_S = 60.0
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 4.1
_MAX_FORM = 1 << 16


class OAuthError(Exception):
    """An OAuth error: ``error`` code and a description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description


@dataclass
class Grant:
    """A code handed out, and what its redemption must match."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    scope: str
    issued_at: float = field(default_factory=time.monotonic)


class CodeFlowProvider(Provider):
    """A provider with one public client and one user it approves at once."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.clients: dict[str, str] = {}  # client_id -> its one redirect URI
        self.user: dict[str, Any] = {"sub": "ines", "roles": ["operator"]}
        self.access_ttl_s = 300
        self.authorizations: list[dict[str, str]] = []  # each /authorize query
        self.token_requests = 0
        self.refusals: list[str] = []
        self._grants: dict[str, Grant] = {}
        self._grants_lock = threading.Lock()

    def register(self, client_id: str, redirect_uri: str) -> None:
        self.clients[client_id] = redirect_uri

    def origins(self) -> set[str]:
        """The browser origins of the registered clients (CORS of /token)."""
        return {_origin(uri) for uri in self.clients.values()}

    def discovery(self) -> dict[str, Any]:
        return {
            **super().discovery(),
            "authorization_endpoint": f"{self.base}/authorize",
            "token_endpoint": f"{self.base}/token",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
        }

    def authorize(self, query: dict[str, str]) -> str:
        """Where to send the browser: the redirect URI with a code (or an error)."""
        self.authorizations.append(query)
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if self.clients.get(client_id) != redirect_uri:
            # RFC 6749 4.1.2.1: never redirect to an unregistered URI.
            raise OAuthError("invalid_request", "unknown client or redirect_uri")
        state = query.get("state")
        mode = query.get("response_mode", "query")
        try:
            if query.get("response_type") != "code":
                raise OAuthError("unsupported_response_type", "only code")
            if mode not in ("query", "fragment"):
                raise OAuthError("invalid_request", f"response_mode {mode!r} is not supported")
            if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                raise OAuthError("invalid_request", "PKCE with S256 is required")
        except OAuthError as refused:
            self.refusals.append(str(refused))
            error = {"error": refused.error, "error_description": refused.description}
            return _answer(redirect_uri, mode, {**error, **({"state": state} if state else {})})
        code = secrets.token_urlsafe(32)
        grant = Grant(
            client_id,
            redirect_uri,
            query["code_challenge"],
            query.get("nonce"),
            query.get("scope", ""),
        )
        with self._grants_lock:
            self._grants[code] = grant
        return _answer(redirect_uri, mode, {"code": code, **({"state": state} if state else {})})

    def redeem(self, form: dict[str, str]) -> dict[str, Any]:
        """The token response for a code; :class:`OAuthError` says why not."""
        self.token_requests += 1
        try:
            return self._redeem(form)
        except OAuthError as refused:
            self.refusals.append(str(refused))
            raise

    def _redeem(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("grant_type") != "authorization_code":
            raise OAuthError("unsupported_grant_type", "only authorization_code")
        with self._grants_lock:  # a code is good for one try, right or wrong
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None or time.monotonic() - grant.issued_at > CODE_TTL_S:
            raise OAuthError("invalid_grant", "unknown, used or expired code")
        if form.get("client_id") != grant.client_id:
            raise OAuthError("invalid_client", "the code was issued to another client")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization's")
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.match(verifier) or s256(verifier) != grant.challenge:
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        now = int(time.time())
        access = self.token(
            aud=AUDIENCE,
            azp=grant.client_id,
            scope=grant.scope,
            exp=now + self.access_ttl_s,
            **self.user,
        )
        identity = self.token(
            aud=grant.client_id, nonce=grant.nonce, roles=None, sub=self.user["sub"]
        )
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_ttl_s,
            "id_token": identity,
            "scope": grant.scope,
        }


class CodeFlowHandler(ProviderHandler):
    provider: CodeFlowProvider

    def do_GET(self) -> None:  # noqa: N802
        path, _, query = self.path.partition("?")
        if path != "/authorize":
            super().do_GET()
            return
        try:
            location = self.provider.authorize(dict(parse_qsl(query)))
        except OAuthError as refused:
            self.provider.refusals.append(str(refused))
            self.send_error(400, refused.description)
            return
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_OPTIONS(self) -> None:  # noqa: N802 (CORS preflight of /token)
        self.send_response(204)
        for name, value in self._cors():
            self.send_header(name, value)
        self.send_header("Access-Control-Allow-Methods", "POST")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/token":
            self.send_error(404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        kind = self.headers.get("Content-Type", "").split(";")[0].strip()
        headers = (*self._cors(), ("Cache-Control", "no-store"))
        if kind != "application/x-www-form-urlencoded" or length > _MAX_FORM:
            body = {"error": "invalid_request", "error_description": "send a form"}
            self.send_json(400, body, *headers)
            return
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        try:
            tokens = self.provider.redeem(form)
        except OAuthError as refused:
            status = 401 if refused.error == "invalid_client" else 400
            body = {"error": refused.error, "error_description": refused.description}
            self.send_json(status, body, *headers)
            return
        self.send_json(200, tokens, *headers)

    def _cors(self) -> list[tuple[str, str]]:
        # Only a registered client's origin may read the answers from a browser.
        origin = self.headers.get("Origin")
        headers = [("Vary", "Origin")]
        if origin is not None and origin in self.provider.origins():
            headers.append(("Access-Control-Allow-Origin", origin))
        return headers


def s256(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _answer(redirect_uri: str, mode: str, params: dict[str, str]) -> str:
    """The redirect URI carrying ``params`` in its fragment or its query."""
    if mode == "fragment":
        return f"{redirect_uri}#{urlencode(params)}"
    return redirect_uri + ("&" if "?" in redirect_uri else "?") + urlencode(params)


def _handler(provider: CodeFlowProvider) -> type[ProviderHandler]:
    return handler_for(provider, CodeFlowHandler)


@contextmanager
def serve_code_flow() -> Iterator[CodeFlowProvider]:
    """A code-flow provider on a free localhost port (register a client first)."""
    with serve(CodeFlowProvider, _handler) as provider:
        yield provider
