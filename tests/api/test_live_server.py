"""The API served by uvicorn on a free port: the event stream, MJPEG, HTTPS with mTLS,
and uploads through a real camera pipeline (`sightwire serve`'s Service)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sightwire.api import create_app
from sightwire.api.server import ApiServer, Service
from sightwire.config.models import SightwireConfig
from sightwire.security.keys import ApiKeyStore
from sightwire.security.principal import Role
from tests.api.site import Site, build_site, make_event, snapshot_jpeg
from tests.security.certs import make_pki

TIMEOUT = httpx.Timeout(10.0)


@pytest.fixture
def served(site: Site) -> Iterator[str]:
    server = ApiServer(create_app(site.ctx), site.ctx.config.api.model_copy(update={"port": 0}))
    url = server.start_in_thread()
    yield url
    server.stop()


def test_the_event_stream_sends_events_recorded_after_subscribing(site: Site, served: str) -> None:
    headers = site.headers("scoped")  # sees belt-1, not dock-2
    with httpx.stream(
        "GET", f"{served}/api/v1/events/stream", headers=headers, timeout=TIMEOUT
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        assert next(lines) == ": subscribed"
        site.ctx.store.record(make_event("dock-2", "dock.busy"), [])
        belt = site.ctx.store.record(make_event("belt-1", "parcel.seen"), [])
        message = _next_message(lines)
    assert message["id"] == belt.id
    assert message["event"] == "com.sightwire.parcel.seen"
    assert f'"id":"{belt.id}"' in message["data"]


def _next_message(lines: Iterator[str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in lines:
        if line.startswith(":"):
            continue
        if not line and fields:
            return fields
        name, _, value = line.partition(": ")
        if name:
            fields[name] = value
    raise AssertionError("the stream ended without a message")


def test_the_event_stream_needs_sign_in(served: str) -> None:
    response = httpx.get(f"{served}/api/v1/events/stream", timeout=TIMEOUT)
    assert response.status_code == 401


def test_the_live_stream_is_mjpeg_with_overlays(site: Site, served: str) -> None:
    url = f"{served}/api/v1/cameras/belt-1/stream?fps=10"
    with httpx.stream("GET", url, headers=site.headers("viewer"), timeout=TIMEOUT) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
        received = b""
        for chunk in response.iter_bytes():
            received += chunk
            if received.count(b"\xff\xd9") >= 1 and b"\r\n\r\n" in received:
                break
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"--frame") and b"Content-Type: image/jpeg" in head
    assert body.startswith(b"\xff\xd8\xff")
    scoped = httpx.get(
        f"{served}/api/v1/cameras/dock-2/stream", headers=site.headers("scoped"), timeout=TIMEOUT
    )
    assert scoped.status_code == 403


def test_https_with_client_certificates(tmp_path: Path) -> None:
    pki = make_pki(tmp_path / "pki")
    tls = {"cert": str(pki.server_cert), "key": str(pki.server_key), "client_ca": str(pki.ca)}
    site = build_site(tmp_path / "site", tls=tls, port=0)
    server = ApiServer(create_app(site.ctx), site.ctx.config.api)
    url = server.start_in_thread()
    try:
        assert url.startswith("https://localhost:")
        with httpx.Client(verify=pki.client_context(), timeout=TIMEOUT) as client:
            response = client.get(f"{url}/api/v1/events", headers=site.headers("viewer"))
            assert response.status_code == 200
            assert response.headers["strict-transport-security"].startswith("max-age=")
            assert client.get(f"{url}/api/v1/events").status_code == 401
        with (
            pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)),
            httpx.Client(verify=pki.client_context(cert=False), timeout=TIMEOUT) as anonymous,
        ):
            anonymous.get(f"{url}/healthz")
        with (
            pytest.raises(httpx.ConnectError),
            httpx.Client(verify=ssl.create_default_context(), timeout=TIMEOUT) as untrusting,
        ):
            untrusting.get(f"{url}/healthz")
    finally:
        server.stop()


def test_an_upload_goes_through_the_camera_pipeline(tmp_path: Path) -> None:
    config = SightwireConfig.model_validate(
        {
            "store": {
                "database": f"sqlite:///{tmp_path}/s.db",
                "blobs": f"file://{tmp_path}/blobs",
            },
            "cameras": {"drone-1": {"source": "upload"}},
            "api": {"port": 0},
        }
    )
    service = Service(config)
    secret = ApiKeyStore(service.context.store.db).create(
        "pilot", Role.OPERATOR, frozenset({"drone-1"}), created_by="test"
    )
    headers = {"Authorization": f"Bearer {secret.secret}"}
    service.start()
    url = service.server.start_in_thread()
    try:
        ready = httpx.get(f"{url}/readyz", timeout=TIMEOUT).json()
        assert ready["ready"] and ready["pipelines"] == "running"
        files = {"files": ("a.jpg", snapshot_jpeg(), "image/jpeg")}
        upload = httpx.post(
            f"{url}/api/v1/cameras/drone-1/frames", files=files, headers=headers, timeout=TIMEOUT
        )
        assert upload.status_code == 202, upload.text
        deadline = time.monotonic() + 10
        while service.live.latest("drone-1") is None:
            assert time.monotonic() < deadline, "the pipeline never processed the upload"
            time.sleep(0.02)
        frame = httpx.get(f"{url}/api/v1/cameras/drone-1/frame", headers=headers, timeout=TIMEOUT)
        assert frame.status_code == 200 and frame.content[:3] == b"\xff\xd8\xff"
        camera = httpx.get(f"{url}/api/v1/cameras/drone-1", headers=headers, timeout=TIMEOUT)
        assert camera.json()["processed"] >= 1 and camera.json()["frames_shown"] == 1
    finally:
        service.close()
