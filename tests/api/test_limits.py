"""Limits and hardening: body sizes, uploads, rate limits, CORS, headers, 500s."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from sightwire.api import create_app
from tests.api.site import Site, build_site, snapshot_jpeg

UPLOAD = "/api/v1/cameras/drone-1/frames"


def _files(*parts: tuple[str, bytes]) -> list[tuple[str, tuple[str, io.BytesIO, str]]]:
    return [("files", (name, io.BytesIO(data), "application/octet-stream")) for name, data in parts]


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )


def test_an_oversized_json_body_is_413(client: TestClient, site: Site) -> None:
    event_id = site.events["belt-1"].id
    comment = "x" * (site.ctx.config.api.max_body_bytes + 1)
    response = client.post(
        f"/api/v1/events/{event_id}/acknowledge",
        json={"comment": comment},
        headers=site.headers("operator"),
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert (
        client.get(f"/api/v1/events/{event_id}", headers=site.headers("viewer")).json()["status"]
        == "new"
    )


def test_a_streamed_body_without_length_is_cut_at_the_limit(client: TestClient, site: Site) -> None:
    event_id = site.events["belt-1"].id
    limit = site.ctx.config.api.max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"comment": "'
        for _ in range(limit // 4096 + 2):
            yield b"y" * 4096
        yield b'"}'

    response = client.post(
        f"/api/v1/events/{event_id}/acknowledge",
        content=chunks(),
        headers={**site.headers("operator"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413


def test_an_oversized_upload_is_413(tmp_path: Path) -> None:
    site = build_site(tmp_path, max_upload_bytes=4096)
    client = TestClient(create_app(site.ctx))
    big = snapshot_jpeg() + b"\0" * 8192
    response = client.post(UPLOAD, files=_files(("a.jpg", big)), headers=site.headers("operator"))
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("name", "data", "status"),
    [
        ("notes.txt", b"hello, not a picture", 415),
        ("page.pdf", b"%PDF-1.7\n...", 415),
        ("script.jpg", b"#!/bin/sh\nrm -rf /\n", 415),
        ("empty.jpg", b"", 415),
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 64, 422),
        ("bomb.png", _png_header(100_000, 100_000), 422),
        ("truncated.png", _png_header(64, 64), 422),
    ],
)
def test_what_is_not_a_usable_picture_is_refused(
    client: TestClient, site: Site, name: str, data: bytes, status: int
) -> None:
    runner = site.ctx.live.runner  # type: ignore[union-attr]
    response = client.post(UPLOAD, files=_files((name, data)), headers=site.headers("operator"))
    assert response.status_code == status, response.text
    assert runner.uploads["drone-1"]._queue.qsize() == 0  # type: ignore[union-attr]


def test_one_bad_picture_refuses_the_whole_batch(client: TestClient, site: Site) -> None:
    runner = site.ctx.live.runner  # type: ignore[union-attr]
    files = _files(("a.jpg", snapshot_jpeg()), ("b.txt", b"not a picture"))
    response = client.post(UPLOAD, files=files, headers=site.headers("operator"))
    assert response.status_code == 415
    assert runner.uploads["drone-1"]._queue.qsize() == 0  # type: ignore[union-attr]


def test_jpeg_png_and_webp_go_in_as_one_batch(client: TestClient, site: Site) -> None:
    image = np.full((48, 64, 3), 120, np.uint8)
    parts = [
        (f"p{ext}", cv2.imencode(ext, image)[1].tobytes()) for ext in (".jpg", ".png", ".webp")
    ]
    response = client.post(UPLOAD, files=_files(*parts), headers=site.headers("operator"))
    assert response.status_code == 202, response.text
    frames = response.json()["frames"]
    assert [f["format"] for f in frames] == ["jpeg", "png", "webp"]
    assert [f["seq"] for f in frames] == [0, 1, 2]
    assert {(f["width"], f["height"]) for f in frames} == {(64, 48)}


def test_too_many_pictures_at_once_is_413(tmp_path: Path) -> None:
    site = build_site(tmp_path, max_upload_files=2)
    client = TestClient(create_app(site.ctx))
    files = _files(*[(f"{i}.jpg", snapshot_jpeg()) for i in range(3)])
    assert client.post(UPLOAD, files=files, headers=site.headers("operator")).status_code == 413


def test_the_upload_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    site = build_site(tmp_path, uploads_per_minute=2)
    client = TestClient(create_app(site.ctx))
    headers = site.headers("operator")
    files = _files(("a.jpg", snapshot_jpeg()), ("b.jpg", snapshot_jpeg()))
    assert client.post(UPLOAD, files=files, headers=headers).status_code == 202
    refused = client.post(UPLOAD, files=_files(("c.jpg", snapshot_jpeg())), headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    other = client.post(
        UPLOAD, files=_files(("d.jpg", snapshot_jpeg())), headers=site.headers("admin")
    )
    assert other.status_code == 202  # the limit is per caller


def test_cors_is_closed_unless_configured(tmp_path: Path, client: TestClient) -> None:
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization",
    }
    closed = client.options("/api/v1/events", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    site = build_site(tmp_path / "open", cors_origins=["https://ops.example"])
    opened = TestClient(create_app(site.ctx))
    allowed = opened.options(
        "/api/v1/events", headers={**preflight, "Origin": "https://ops.example"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
    refused = opened.options("/api/v1/events", headers=preflight)
    assert "access-control-allow-origin" not in refused.headers


def test_security_headers_are_on_every_answer(client: TestClient, site: Site) -> None:
    for response in (
        client.get("/healthz"),
        client.get("/api/v1/events", headers=site.headers("viewer")),
        client.get("/api/v1/events"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]


def test_an_unexpected_error_is_a_generic_500_without_a_trace(
    client: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals: /srv/sightwire/db.py line 42")

    monkeypatch.setattr(site.ctx.store, "get", broken)
    event_id = site.events["belt-1"].id
    response = client.get(f"/api/v1/events/{event_id}", headers=site.headers("viewer"))
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_a_revoked_or_made_up_key_is_401(client: TestClient, site: Site) -> None:
    made_up = {"Authorization": "Bearer sw_01ABCDEFGHJKMNPQRSTVWXYZ01_" + "x" * 43}
    assert client.get("/api/v1/events", headers=made_up).status_code == 401
    assert client.get("/api/v1/events", headers={"X-API-Key": "nonsense"}).status_code == 401
    no_oidc = {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}
    assert client.get("/api/v1/events", headers=no_oidc).status_code == 401
    headers = {"X-API-Key": site.keys["viewer"]}
    assert client.get("/api/v1/events", headers=headers).status_code == 200
    key_id = site.ctx.keys.authenticate(site.keys["viewer"]).subject.removeprefix("key:")  # type: ignore[union-attr]
    site.ctx.keys.revoke(key_id, by="test")  # type: ignore[union-attr]
    assert client.get("/api/v1/events", headers=headers).status_code == 401


def test_metrics_take_the_scrape_token(tmp_path: Path) -> None:
    site = build_site(tmp_path, metrics_token="scrape-me-please")
    client = TestClient(create_app(site.ctx))
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-not"})
    assert wrong.status_code == 401
    scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert scraped.status_code == 200 and "sightwire_events_total" in scraped.text


def test_an_upload_keeps_the_capture_time_it_was_given(client: TestClient, site: Site) -> None:
    runner = site.ctx.live.runner  # type: ignore[union-attr]
    response = client.post(
        UPLOAD,
        files=_files(("a.jpg", snapshot_jpeg())),
        data={"captured_at": "1795800000.5"},
        headers=site.headers("operator"),
    )
    assert response.status_code == 202
    frame = next(runner.uploads["drone-1"].frames())  # type: ignore[union-attr]
    assert frame.captured_at == 1795800000.5
