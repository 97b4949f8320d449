"""HTTPS and mutual TLS: config → uvicorn settings, then a real server and clients."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from sightwire.config.security import TlsConfig
from sightwire.security.tls import TlsError, uvicorn_ssl_kwargs
from tests.security.certs import Pki, make_pki


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


async def _hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


@contextmanager
def _serve(**ssl_kwargs: Any) -> Iterator[str]:
    """uvicorn serving a tiny ASGI app over HTTPS on a free port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_hello, log_level="warning", lifespan="off", **ssl_kwargs)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # waits for a condition, bounded
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"https://localhost:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_kwargs_for_https_and_mtls(pki: Pki) -> None:
    assert uvicorn_ssl_kwargs(None) == {}
    plain = uvicorn_ssl_kwargs(TlsConfig(cert=pki.server_cert, key=pki.server_key))
    assert plain == {"ssl_certfile": str(pki.server_cert), "ssl_keyfile": str(pki.server_key)}
    mutual = uvicorn_ssl_kwargs(
        TlsConfig(cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca)
    )
    assert mutual["ssl_ca_certs"] == str(pki.ca)
    assert mutual["ssl_cert_reqs"] == ssl.CERT_REQUIRED


def test_bad_files_get_clear_errors(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(TlsError, match=r"certificate .*nope.pem: no such file"):
        uvicorn_ssl_kwargs(TlsConfig(cert=missing, key=pki.server_key))
    with pytest.raises(TlsError, match="not a PEM pair that matches"):
        uvicorn_ssl_kwargs(TlsConfig(cert=pki.server_cert, key=pki.client_key))
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    with pytest.raises(TlsError, match="client CA"):
        uvicorn_ssl_kwargs(TlsConfig(cert=pki.server_cert, key=pki.server_key, client_ca=garbage))


def test_https_serves_and_is_verified(pki: Pki) -> None:
    kwargs = uvicorn_ssl_kwargs(TlsConfig(cert=pki.server_cert, key=pki.server_key))
    with _serve(**kwargs) as url:
        assert httpx.get(url, verify=pki.client_context(cert=False)).text == "hello"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(url)  # the system's CAs do not know the test CA


def test_mutual_tls_refuses_a_client_without_a_certificate(pki: Pki) -> None:
    tls = TlsConfig(cert=pki.server_cert, key=pki.server_key, client_ca=pki.ca)
    with _serve(**uvicorn_ssl_kwargs(tls)) as url:
        with httpx.Client(verify=pki.client_context(cert=True)) as client:
            assert client.get(url).text == "hello"
        with (
            httpx.Client(verify=pki.client_context(cert=False)) as client,
            pytest.raises(httpx.TransportError),
        ):
            client.get(url)
        stranger = make_pki(Path(pki.ca).parent / "stranger")  # a cert of another CA
        context = pki.client_context(cert=False)
        context.load_cert_chain(stranger.client_cert, stranger.client_key)
        with httpx.Client(verify=context) as client, pytest.raises(httpx.TransportError):
            client.get(url)
