"""TLS of outgoing clients: webhooks, HTTP actions and lookups against an HTTPS receiver
signed by a throwaway CA (and requiring client certificates for mutual TLS)."""

from __future__ import annotations

import base64
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from sightwire.actions.http import HttpAction
from sightwire.actions.webhook import WebhookAction
from sightwire.config.actions import HttpConfig, WebhookConfig
from sightwire.config.rules import LookupConfig
from sightwire.config.security import ClientTlsConfig
from sightwire.core import Event
from sightwire.rules.lookups import Lookup
from sightwire.security.tls import TlsError, ssl_context
from tests.security.certs import Pki, make_pki

pytestmark = pytest.mark.anyio
SECRET = "whsec_" + base64.b64encode(b"receiver-secret-32-bytes-long!!!").decode()


@dataclass
class Https:
    url: str
    seen: list[str]  # the paths asked for


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


async def _serve(pki: Pki, *, mutual: bool) -> AsyncIterator[Https]:
    seen: list[str] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(request.path)
        return web.json_response({"ok": True, "path": request.path})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    if mutual:
        context.load_verify_locations(cafile=pki.ca)
        context.verify_mode = ssl.CERT_REQUIRED
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Https(f"https://127.0.0.1:{port}", seen)
    finally:
        await runner.cleanup()


@pytest.fixture
async def https(pki: Pki) -> AsyncIterator[Https]:
    async for server in _serve(pki, mutual=False):
        yield server


@pytest.fixture
async def mtls(pki: Pki) -> AsyncIterator[Https]:
    async for server in _serve(pki, mutual=True):
        yield server


def _hook(url: str, tls: dict[str, Any] | None) -> WebhookAction:
    config = WebhookConfig.model_validate({"url": url, "secret": SECRET, "tls": tls})
    return WebhookAction("webhook:0", config)


async def _send(action: WebhookAction | HttpAction, event: Event) -> Any:
    try:
        return await action.send(event)
    finally:
        await action.close()


async def test_a_webhook_trusting_the_ca_delivers(https: Https, pki: Pki, event: Event) -> None:
    result = await _send(_hook(https.url + "/hook", {"ca": str(pki.ca)}), event)
    assert result.ok, result.detail
    assert https.seen == ["/hook"]


async def test_without_the_ca_the_webhook_fails_with_a_clear_tls_error(
    https: Https, event: Event
) -> None:
    result = await _send(_hook(https.url + "/hook", None), event)
    assert not result.ok and not result.retryable  # retrying cannot make it trusted
    assert "TLS" in result.detail and "certificate" in result.detail
    assert "tls.ca" in result.detail  # says what to do
    assert https.seen == []


async def test_verify_false_skips_the_check(https: Https, event: Event) -> None:
    result = await _send(_hook(https.url + "/hook", {"verify": False}), event)
    assert result.ok, result.detail


async def test_the_server_name_to_expect_can_differ_from_the_host(
    https: Https, pki: Pki, event: Event
) -> None:
    named = {"ca": str(pki.ca), "server_name": "localhost"}  # the cert also names localhost
    assert (await _send(_hook(https.url + "/a", named), event)).ok
    wrong = {"ca": str(pki.ca), "server_name": "erp.example"}
    result = await _send(_hook(https.url + "/b", wrong), event)
    assert not result.ok and "erp.example" in result.detail and "server_name" in result.detail
    assert https.seen == ["/a"]


async def test_mutual_tls_presents_the_client_certificate(
    mtls: Https, pki: Pki, event: Event
) -> None:
    with_cert = {"ca": str(pki.ca), "cert": str(pki.client_cert), "key": str(pki.client_key)}
    assert (await _send(_hook(mtls.url + "/in", with_cert), event)).ok
    refused = await _send(_hook(mtls.url + "/out", {"ca": str(pki.ca)}), event)
    assert not refused.ok
    assert mtls.seen == ["/in"]


async def test_http_actions_and_lookups_take_the_same_settings(
    mtls: Https, pki: Pki, event: Event
) -> None:
    tls = {"ca": str(pki.ca), "cert": str(pki.client_cert), "key": str(pki.client_key)}
    config = HttpConfig.model_validate({"type": "http", "url": mtls.url + "/erp", "tls": tls})
    assert (await _send(HttpAction("erp", config), event)).ok
    lookup = Lookup("wms", LookupConfig.model_validate({"url": mtls.url + "/p/{id}", "tls": tls}))
    try:
        found = await lookup.fetch({"id": "1Z"})
    finally:
        await lookup.aclose()
    assert found.value == {"ok": True, "path": "/p/1Z"}
    bare = Lookup("wms", LookupConfig(url=mtls.url + "/p/{id}"))
    try:
        failed = await bare.fetch({"id": "2Z"})
    finally:
        await bare.aclose()
    assert failed.error is not None and "certificate" in failed.error  # recorded, not raised
    assert mtls.seen == ["/erp", "/p/1Z"]


def test_bad_files_are_clear_errors_at_start(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(TlsError, match="no such file"):
        ssl_context(ClientTlsConfig(ca=tmp_path / "missing.pem"))
    with pytest.raises(TlsError, match="not a PEM pair"):
        ssl_context(ClientTlsConfig(cert=pki.client_cert, key=pki.server_key))
    with pytest.raises(ValueError, match="without `cert`"):
        ClientTlsConfig(key=pki.client_key)
    with pytest.raises(TlsError, match="no such file"):  # the action refuses to start
        _hook("https://erp.example/hook", {"ca": str(tmp_path / "missing.pem")})
