"""The authorisation matrix: every kind of caller against every route family.

One table says, per route, the least role it needs and what a camera-scoped operator
(cameras belt-1 and drone-1) gets where the item belongs to dock-2.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sightwire.api import create_app
from sightwire.review import ReviewQueue
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
    # The web UI's JSON routes (sightwire.web): review, zones, status.
    Route("review", "GET", "/api/v1/review/items", "viewer"),
    Route("review", "GET", "/api/v1/review/summary", "viewer"),
    Route("review", "GET", "/api/v1/review/precision", "viewer"),
    Route("review", "GET", "/api/v1/review/items/{belt}", "viewer"),
    Route("review", "GET", "/api/v1/review/items/{dock}", "viewer", scoped=404),
    Route("review", "GET", "/api/v1/review/items/{belt}/image", "viewer"),
    Route("review", "GET", "/api/v1/review/items/{dock}/image", "viewer", scoped=404),
    Route("review", "POST", "/api/v1/review/items/{belt}/decisions", "operator", body="decision"),
    Route(
        "review",
        "POST",
        "/api/v1/review/items/{dock}/decisions",
        "operator",
        scoped=404,
        body="decision",
    ),
    Route("zones", "GET", "/api/v1/cameras/belt-1/zones", "viewer"),
    Route("zones", "GET", "/api/v1/cameras/dock-2/zones", "viewer", scoped=403),
    Route("zones", "PUT", "/api/v1/cameras/belt-1/zones", "admin", body="zones"),
    Route("zones", "PUT", "/api/v1/cameras/dock-2/zones", "admin", body="zones"),
    Route("status", "GET", "/api/v1/me", "viewer"),
    Route("status", "GET", "/api/v1/status", "viewer"),
]
ZONES = {"zones": {"belt": [[0, 40], [320, 40], [320, 200], [0, 200]]}, "lines": {}}


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
    if route.body == "decision":
        return {"json": {"action": "confirm", "comment": "ok"}}
    if route.body == "zones":
        return {"json": ZONES}
    if route.body == "json":
        return {"json": {"version": "1"} if route.path.endswith("promote") else {"comment": "ok"}}
    if route.body == "upload":
        return {"files": [("files", ("a.jpg", io.BytesIO(snapshot_jpeg()), "image/jpeg"))]}
    return {}


@pytest.mark.parametrize("caller", CALLERS, ids=lambda c: c or "anonymous")
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_caller_against_every_route(tmp_path: Path, route: Route, caller: str | None) -> None:
    site = build_site(tmp_path, models=route.family == "models")
    if route.family == "review":  # both cameras' events await review
        ReviewQueue(site.ctx.store.db).add_events(list(site.events.values()))
    if route.family == "zones":  # the file `serve` would have loaded, to save zones to
        site.ctx.config_path = _config_file(site)
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


def _config_file(site: Site) -> Path:
    """A config file with the site's cameras (uploads stand in for their sources)."""
    store = site.ctx.config.store
    path = site.root / "site.yaml"
    path.write_text(
        "version: 1\n"
        f"store: {{database: '{store.database}', blobs: '{store.blobs}'}}\n"
        "cameras:\n"
        "  belt-1: {source: upload, zones: {belt: [[0, 40], [320, 40], [320, 200]]}}\n"
        "  dock-2: {source: upload}\n"
        "  drone-1: {source: upload}\n"
    )
    return path


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
        "review",
        "zones",
        "status",
    }


def test_every_api_route_is_in_the_table(tmp_path: Path) -> None:
    """A route added to the app (its OpenAPI spec) without a row here fails this test."""
    site = build_site(tmp_path)
    tabled = [(r.method, _path(r, site).partition("?")[0]) for r in ROUTES]
    spec = create_app(site.ctx).openapi()
    untabled = sorted(
        (method.upper(), template)
        for template, operations in spec["paths"].items()
        for method in operations
        if not any(m == method.upper() and re.fullmatch(_pattern(template), p) for m, p in tabled)
    )
    # The two endless streams are tested against a live server (test_live_server.py).
    assert untabled == [
        ("GET", "/api/v1/cameras/{camera}/stream"),
        ("GET", "/api/v1/events/stream"),
    ]


def _pattern(template: str) -> str:
    """``/api/v1/events/{event_id}`` as a regular expression of the paths it takes
    (a snapshot's ``{key}`` is a path: it may hold slashes)."""
    pattern = re.escape(template).replace(r"\{key\}", ".+")
    return re.sub(r"\\{[^}]+\\}", "[^/]+", pattern)
