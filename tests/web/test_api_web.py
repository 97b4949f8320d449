"""The UI's JSON routes and pages, in process: roles, camera scopes, audit, validation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from sightwire.api import ApiContext, create_app
from sightwire.config.loader import load_config
from sightwire.config.models import CameraConfig
from sightwire.runtime.live import LiveView
from sightwire.runtime.runner import Runner
from tests.web.site import CAMERA, Site, build_site


class RecordingRunner:
    """Stands in for the pipelines: records the zones handed to it."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, CameraConfig]] = []
        self.stats: dict[str, Any] = {}
        self.failed: dict[str, str] = {}

    def apply_zones(self, camera: str, config: CameraConfig) -> None:
        self.applied.append((camera, config))

    def summary(self) -> list[dict[str, Any]]:
        return []


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return build_site(tmp_path_factory.mktemp("ui-api"), port=0)


@pytest.fixture
def runner() -> RecordingRunner:
    return RecordingRunner()


@pytest.fixture
def client(site: Site, runner: RecordingRunner) -> Iterator[TestClient]:
    config = load_config(site.config_path)
    live = LiveView(config)
    live.attach(cast(Runner, runner))
    ctx = ApiContext.open(config, live=live)
    ctx.config_path = site.config_path
    with TestClient(create_app(ctx)) as test_client:
        yield test_client
    ctx.store.db.close()


def auth(site: Site, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.keys[role]}"}


def audit_actions(client: TestClient) -> list[str]:
    ctx: ApiContext = client.app.state.context  # type: ignore[attr-defined]
    return [entry.action for entry in ctx.audit.entries()]


def test_pages_are_served_with_their_own_policy_and_no_secrets(
    client: TestClient, site: Site
) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/ui/events"
    for path in (
        "/ui/signin",
        "/ui/events",
        "/ui/review",
        "/ui/zones",
        "/ui/models",
        "/ui/live",
        "/ui/health",
        "/ui/rules",
        f"/ui/events/{site.seeded[0]}",
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "sw_" not in page.text.replace('placeholder="sw_..."', "")
    assert client.get("/ui/static/app.js").status_code == 200


def test_me_needs_credentials_and_says_who_and_what_role(client: TestClient, site: Site) -> None:
    assert client.get("/api/v1/me").status_code == 401
    me = client.get("/api/v1/me", headers=auth(site, "elsewhere")).json()
    assert me["role"] == "admin" and me["cameras"] == ["cam-x"]


def test_a_viewer_reads_the_queue_but_only_an_operator_decides(
    client: TestClient, site: Site
) -> None:
    items = client.get("/api/v1/review/items", headers=auth(site, "viewer")).json()["items"]
    assert [item["id"] for item in items] == site.seeded
    first = site.seeded[0]
    url = f"/api/v1/review/items/{first}/decisions"
    assert (
        client.post(url, json={"action": "confirm"}, headers=auth(site, "viewer")).status_code
        == 403
    )
    bad = client.post(
        url,
        json={"action": "relabel", "object_id": 9, "class_name": "x"},
        headers=auth(site, "operator"),
    )
    assert bad.status_code == 422 and "no box 9" in bad.json()["detail"]
    done = client.post(url, json={"action": "reject"}, headers=auth(site, "operator"))
    assert done.status_code == 200 and done.json()["state"] == "rejected"
    assert done.json()["reviewed_by"].startswith("key:")
    assert "review.decide" in audit_actions(client)
    precision = client.get("/api/v1/review/precision", headers=auth(site, "viewer")).json()
    assert precision == [
        {"rule": "parcel.seen", "confirmed": 0, "rejected": 1, "precision": 0.0, "pending": 1}
    ]
    picture = client.get(f"/api/v1/review/items/{first}/image", headers=auth(site, "viewer"))
    assert picture.headers["content-type"] == "image/jpeg" and picture.content[:2] == b"\xff\xd8"


def test_a_caller_limited_to_other_cameras_sees_no_item_and_cannot_decide(
    client: TestClient, site: Site
) -> None:
    scoped = auth(site, "elsewhere")
    assert client.get("/api/v1/review/items", headers=scoped).json()["items"] == []
    item = site.seeded[1]
    assert client.get(f"/api/v1/review/items/{item}", headers=scoped).status_code == 404
    decide = client.post(
        f"/api/v1/review/items/{item}/decisions", json={"action": "confirm"}, headers=scoped
    )
    assert decide.status_code == 404
    assert client.get(f"/api/v1/cameras/{CAMERA}/zones", headers=scoped).status_code == 403


def test_zones_are_validated_saved_and_applied_by_an_admin_only(
    client: TestClient, site: Site, runner: RecordingRunner
) -> None:
    url = f"/api/v1/cameras/{CAMERA}/zones"
    shown = client.get(url, headers=auth(site, "viewer")).json()
    assert shown["editable"] and set(shown["zones"]) == {"belt", "dock"}
    new = {"zones": {**shown["zones"], "bay": [[0, 0], [50, 0], [50, 50]]}, "lines": {}}
    assert client.put(url, json=new, headers=auth(site, "operator")).status_code == 403
    before = site.config_path.read_text()
    broken = client.put(
        url, json={"zones": {"bay": new["zones"]["bay"]}}, headers=auth(site, "admin")
    )
    assert broken.status_code == 422  # rules parcel.seen and parcel.docked need belt and dock
    assert {e["path"] for e in broken.json()["errors"]} == {"rules[0].on.zone", "rules[1].on.zone"}
    assert site.config_path.read_text() == before and runner.applied == []
    saved = client.put(url, json=new, headers=auth(site, "admin"))
    assert saved.status_code == 200 and saved.json()["applied"] is True
    assert [(camera, set(config.zones)) for camera, config in runner.applied] == [
        (CAMERA, {"belt", "dock", "bay"})
    ]
    assert "bay: [[0, 0], [50, 0], [50, 50]]" in site.config_path.read_text()
    assert "# a phone or drone pushing pictures" in site.config_path.read_text()
    assert set(client.get(url, headers=auth(site, "viewer")).json()["zones"]) == {
        "belt",
        "dock",
        "bay",
    }
    assert "zone.change" in audit_actions(client)
    tiny = {"zones": {"belt": [[0, 0], [1, 1]]}}  # two points are not a polygon
    assert client.put(url, json=tiny, headers=auth(site, "admin")).status_code == 422


def test_status_reports_backlog_and_review_queue(client: TestClient, site: Site) -> None:
    status = client.get("/api/v1/status", headers=auth(site, "viewer")).json()
    assert status["pipelines"] is True and status["sources"] == []
    assert isinstance(status["backlog"], dict) and status["review_pending"] >= 0
    assert status["latency"]["events"] >= len(site.seeded)


def test_the_routes_are_in_the_openapi_spec(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/v1/review/items",
        "/api/v1/review/items/{item_id}/decisions",
        "/api/v1/review/precision",
        "/api/v1/cameras/{camera}/zones",
        "/api/v1/me",
    ):
        assert path in paths
    assert not any(path.startswith("/ui") for path in paths)


def test_a_config_path_that_is_missing_makes_zones_read_only(site: Site) -> None:
    ctx = ApiContext.open(load_config(site.config_path))
    with TestClient(create_app(ctx)) as client:
        url = f"/api/v1/cameras/{CAMERA}/zones"
        assert client.get(url, headers=auth(site, "admin")).json()["editable"] is False
        refused = client.put(url, json={"zones": {}}, headers=auth(site, "admin"))
        assert refused.status_code == 409
    ctx.store.db.close()
