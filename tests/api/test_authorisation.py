"""The authorisation matrix: every kind of caller against every route family.

One table says, per route, the least role it needs and what a camera-scoped operator
(cameras belt-1 and drone-1) gets where the item belongs to dock-2.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sightwire.api import create_app
from tests.api.site import Site, build_site, snapshot_jpeg

RANK = {"viewer": 1, "operator": 2, "scoped": 2, "admin": 3}
CALLERS = [None, "viewer", "operator", "admin", "scoped"]


@dataclass(frozen=True)
class Route:
    family: str
    method: str
    path: str
    least: str | None  # None: no sign-in needed
    ok: int = 200
    scoped: int | None = None  # what the scoped operator gets, when not `ok`
    body: str = "none"  # none, json, upload


ROUTES = [
    Route("health", "GET", "/healthz", None),
    Route("health", "GET", "/readyz", None),
    Route("metrics", "GET", "/metrics", "viewer"),
    Route("events", "GET", "/api/v1/events", "viewer"),
    Route("events", "GET", "/api/v1/events/{belt}", "viewer"),
    Route("events", "GET", "/api/v1/events/{dock}", "viewer", scoped=404),
    Route("events", "GET", "/api/v1/events/{dock}/deliveries", "viewer", scoped=404),
    Route("events", "POST", "/api/v1/events/{belt}/acknowledge", "operator", body="json"),
    Route("events", "POST", "/api/v1/events/{dock}/resolve", "operator", scoped=404, body="json"),
    Route("snapshots", "GET", "/api/v1/events/{belt}/snapshot?boxes=true", "viewer"),
    Route("snapshots", "GET", "/api/v1/events/{dock}/snapshot", "viewer", scoped=404),
    Route("snapshots", "GET", "/api/v1/snapshots/{dock_snapshot}", "viewer", scoped=404),
    Route("cameras", "GET", "/api/v1/cameras", "viewer"),
    Route("cameras", "GET", "/api/v1/cameras/dock-2", "viewer", scoped=403),
    Route("cameras", "GET", "/api/v1/cameras/belt-1/frame", "viewer"),
    Route("cameras", "GET", "/api/v1/cameras/dock-2/frame", "viewer", scoped=403),
    Route("uploads", "POST", "/api/v1/cameras/drone-1/frames", "operator", 202, body="upload"),
    Route("uploads", "POST", "/api/v1/cameras/dock-2/frames", "operator", 409, 403, "upload"),
    Route("rules", "GET", "/api/v1/rules", "viewer"),
    Route("actions", "GET", "/api/v1/actions", "viewer"),
    Route("deliveries", "GET", "/api/v1/deliveries", "viewer"),
    Route("deliveries", "POST", "/api/v1/deliveries/{belt_delivery}/retry", "operator"),
    Route("deliveries", "POST", "/api/v1/deliveries/{dock_delivery}/retry", "operator", scoped=404),
    Route("models", "GET", "/api/v1/models", "viewer"),
    Route("models", "GET", "/api/v1/models/parcels", "viewer"),
    Route("models", "POST", "/api/v1/models/parcels/promote", "admin", body="json"),
    Route("models", "POST", "/api/v1/models/parcels/rollback", "admin", body="json"),
]


def expected(route: Route, caller: str | None) -> int:
    if route.least is None:
        return route.ok
    if caller is None:
        return 401
    if RANK[caller] < RANK[route.least]:
        return 403
    if caller == "scoped" and route.scoped is not None:
        return route.scoped
    return route.ok


def _path(route: Route, site: Site) -> str:
    belt, dock = site.events["belt-1"], site.events["dock-2"]
    ids = {
        "belt": belt.id,
        "dock": dock.id,
        "dock_snapshot": dock.data.snapshot,
        "belt_delivery": site.ctx.store.deliveries(belt.id)[0].id,
        "dock_delivery": site.ctx.store.deliveries(dock.id)[0].id,
    }
    return route.path.format(**ids)


def _body(route: Route) -> dict[str, Any]:
    if route.body == "json":
        return {"json": {"version": "1"} if route.path.endswith("promote") else {"comment": "ok"}}
    if route.body == "upload":
        return {"files": [("files", ("a.jpg", io.BytesIO(snapshot_jpeg()), "image/jpeg"))]}
    return {}


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "anonymous")
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_caller_against_every_route(tmp_path: Path, route: Route, caller: str | None) -> None:
    site = build_site(tmp_path, models=route.family == "models")
    client = TestClient(create_app(site.ctx), raise_server_exceptions=False)
    response = client.request(
        route.method, _path(route, site), headers=site.headers(caller), **_body(route)
    )
    assert response.status_code == expected(route, caller), response.text
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code


def test_families_are_all_in_the_table() -> None:
    families = {r.family for r in ROUTES}
    assert families >= {
        "health",
        "metrics",
        "events",
        "snapshots",
        "cameras",
        "uploads",
        "rules",
        "actions",
        "deliveries",
        "models",
    }
