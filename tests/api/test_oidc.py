"""OIDC bearer tokens at the API: the provider's token signs in, its roles and cameras
claims decide what the caller may do and see."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sightwire.api import create_app
from sightwire.security.oidc import OidcVerifier
from tests.api.site import Site, build_site
from tests.security.provider import AUDIENCE, Provider, serve_provider


@pytest.fixture
def provider() -> Iterator[Provider]:
    with serve_provider() as running:
        yield running


@pytest.fixture
def oidc_site(tmp_path: Path, provider: Provider) -> Iterator[tuple[Site, TestClient]]:
    oidc = {"issuer": provider.issuer, "audience": AUDIENCE, "cameras_claim": "cameras"}
    site = build_site(tmp_path, oidc=oidc)
    assert site.ctx.config.api.oidc is not None
    verifier = OidcVerifier(site.ctx.config.api.oidc)
    site.ctx.oidc = verifier
    with TestClient(create_app(site.ctx), raise_server_exceptions=False) as client:
        yield site, client
    verifier.close()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_signs_in_with_its_role_and_subject(
    oidc_site: tuple[Site, TestClient], provider: Provider
) -> None:
    site, client = oidc_site
    event_id = site.events["dock-2"].id
    token = provider.token(sub="ana", roles=["operator"], cameras=["*"])
    acked = client.post(
        f"/api/v1/events/{event_id}/acknowledge", json={"comment": "on it"}, headers=_bearer(token)
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["reviews"][0]["by"] == "oidc:ana"
    promote = client.post(
        "/api/v1/models/parcels/promote", json={"version": "1"}, headers=_bearer(token)
    )
    assert promote.status_code == 403


def test_a_token_limited_to_cameras_sees_only_those(
    oidc_site: tuple[Site, TestClient], provider: Provider
) -> None:
    site, client = oidc_site
    token = provider.token(roles=["viewer"], cameras=["belt-1"])
    listed = client.get("/api/v1/events", headers=_bearer(token)).json()["items"]
    assert {item["event"]["data"]["camera"] for item in listed} == {"belt-1"}
    other = client.get(f"/api/v1/events/{site.events['dock-2'].id}", headers=_bearer(token))
    assert other.status_code == 404
    forgot = provider.token(roles=["viewer"])  # no cameras claim: no camera, not all
    assert client.get("/api/v1/events", headers=_bearer(forgot)).json()["items"] == []


def test_bad_tokens_are_401(oidc_site: tuple[Site, TestClient], provider: Provider) -> None:
    _, client = oidc_site
    expired = provider.token(exp=1)
    wrong_audience = provider.token(aud="someone-else")
    for token in (expired, wrong_audience, "not.a.token"):
        response = client.get("/api/v1/events", headers=_bearer(token))
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    as_api_key = client.get("/api/v1/events", headers={"X-API-Key": provider.token()})
    assert as_api_key.status_code == 401  # X-API-Key takes API keys only
