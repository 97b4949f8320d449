"""Events over the API: filters, pages, review, deliveries, and the audit of reads."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sightwire.events.tables import events
from tests.api.site import Site, make_event


def _ids(client: TestClient, site: Site, role: str = "viewer", **params: object) -> list[str]:
    response = client.get("/api/v1/events", params=params, headers=site.headers(role))
    assert response.status_code == 200, response.text
    return [item["event"]["id"] for item in response.json()["items"]]


def test_filters_narrow_the_list(client: TestClient, site: Site) -> None:
    assert len(_ids(client, site)) == 4
    cameras = {
        item["event"]["data"]["camera"]
        for item in client.get(
            "/api/v1/events", params={"camera": "dock-2"}, headers=site.headers("viewer")
        ).json()["items"]
    }
    assert cameras == {"dock-2"}
    assert len(_ids(client, site, rule="parcel.seen")) == 2
    assert len(_ids(client, site, type="com.sightwire.dock.*")) == 2
    assert len(_ids(client, site, min_severity="warning")) == 2
    assert _ids(client, site, since="2000-01-01T00:00:00Z", until="2000-01-02T00:00:00Z") == []


def test_cursor_pages_walk_every_event_once(client: TestClient, site: Site) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/events", params=params, headers=site.headers("viewer")).json()
        seen += [item["event"]["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 4


def test_a_camera_scoped_caller_sees_only_its_cameras(client: TestClient, site: Site) -> None:
    ids = _ids(client, site, role="scoped")
    assert len(ids) == 2
    assert all(site.ctx.store.get(i).data.camera == "belt-1" for i in ids)  # type: ignore[union-attr]
    assert _ids(client, site, role="scoped", camera="dock-2") == []


def test_bad_cursor_and_type_pattern_are_400(client: TestClient, site: Site) -> None:
    headers = site.headers("viewer")
    assert client.get("/api/v1/events?cursor=nonsense", headers=headers).status_code == 400
    assert client.get("/api/v1/events?type=com.*.x", headers=headers).status_code == 400
    assert client.get("/api/v1/events?min_severity=loud", headers=headers).status_code == 422
    assert client.get("/api/v1/events?limit=100000", headers=headers).status_code == 422


INJECTIONS = [
    "' OR '1'='1",
    "belt-1'; DROP TABLE events; --",
    '" OR 1=1 --',
    "%' OR 1=1 --",
    "1) UNION SELECT cloudevent FROM events --",
    "com.sightwire.%",
    "\\",
]


def test_sql_injection_in_filters_finds_nothing_and_changes_nothing(
    client: TestClient, site: Site
) -> None:
    def count() -> int:
        with site.ctx.store.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(events)).scalar() or 0)

    before = count()
    for text in INJECTIONS:
        for field in ("type", "camera", "rule", "cursor"):
            response = client.get(
                "/api/v1/events", params={field: text}, headers=site.headers("viewer")
            )
            assert response.status_code in (200, 400, 422), (field, text, response.text)
            if response.status_code == 200:
                assert response.json()["items"] == [], (field, text)
        response = client.get(
            "/api/v1/deliveries", params={"destination": text}, headers=site.headers("viewer")
        )
        assert response.status_code == 200 and response.json() == []
    assert count() == before


def test_acknowledge_then_resolve_records_who_when_and_why(client: TestClient, site: Site) -> None:
    event_id = site.events["belt-1"].id
    headers = site.headers("operator")
    acked = client.post(
        f"/api/v1/events/{event_id}/acknowledge", json={"comment": "QC told"}, headers=headers
    )
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    again = client.post(f"/api/v1/events/{event_id}/acknowledge", json={}, headers=headers)
    assert again.status_code == 409
    resolved = client.post(
        f"/api/v1/events/{event_id}/resolve", json={"comment": "re-routed"}, headers=headers
    )
    body = resolved.json()
    assert body["status"] == "resolved"
    assert [(r["action"], r["comment"]) for r in body["reviews"]] == [
        ("acknowledge", "QC told"),
        ("resolve", "re-routed"),
    ]
    subject = body["reviews"][0]["by"]
    assert subject.startswith("key:") and all(r["by"] == subject for r in body["reviews"])
    assert abs(body["reviews"][1]["at"] - time.time()) < 600
    shown = client.get(f"/api/v1/events/{event_id}", headers=site.headers("viewer")).json()
    assert shown["status"] == "resolved"
    actions = [(e.actor, e.action, e.target) for e in site.ctx.audit.entries()]
    assert (subject, "event.acknowledge", event_id) in actions
    assert (subject, "event.resolve", event_id) in actions


def test_reads_of_events_and_snapshots_are_audited(client: TestClient, site: Site) -> None:
    event_id = site.events["dock-2"].id
    headers = site.headers("viewer")
    assert client.get(f"/api/v1/events/{event_id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/events/{event_id}/snapshot", headers=headers).status_code == 200
    viewer = client.get("/api/v1/events?limit=1", headers=headers).json()
    assert viewer["items"]
    entries = [(e.action, e.target) for e in site.ctx.audit.entries()]
    assert ("event.read", event_id) in entries
    assert ("snapshot.read", event_id) in entries
    assert ("event.list", "events") in entries


def test_snapshot_with_boxes_differs_from_the_plain_one(client: TestClient, site: Site) -> None:
    event_id = site.events["belt-1"].id
    headers = site.headers("viewer")
    plain = client.get(f"/api/v1/events/{event_id}/snapshot", headers=headers)
    boxed = client.get(f"/api/v1/events/{event_id}/snapshot?boxes=true", headers=headers)
    assert plain.headers["content-type"] == boxed.headers["content-type"] == "image/jpeg"
    assert plain.content[:3] == boxed.content[:3] == b"\xff\xd8\xff"
    assert plain.content != boxed.content


def test_event_deliveries_and_retry_of_a_dead_one(client: TestClient, site: Site) -> None:
    event_id = site.events["belt-1"].id
    delivery = site.ctx.store.deliveries(event_id)[0]
    with site.ctx.store.db.write() as conn:
        conn.exec_driver_sql(f"UPDATE deliveries SET state = 'dead' WHERE id = '{delivery.id}'")
    listed = client.get(f"/api/v1/events/{event_id}/deliveries", headers=site.headers("viewer"))
    assert [d["state"] for d in listed.json()] == ["dead"]
    dead = client.get("/api/v1/deliveries?state=dead", headers=site.headers("viewer")).json()
    assert [d["id"] for d in dead] == [delivery.id]
    retried = client.post(
        f"/api/v1/deliveries/{delivery.id}/retry", headers=site.headers("operator")
    )
    assert retried.status_code == 200
    assert retried.json()["delivery"]["state"] == "pending"
    assert retried.json()["delivery"]["replays"] == 1


def test_an_event_recorded_later_is_listed_first(client: TestClient, site: Site) -> None:
    newest = site.ctx.store.record(make_event("belt-1", "parcel.seen"), [])
    assert _ids(client, site)[0] == newest.id
