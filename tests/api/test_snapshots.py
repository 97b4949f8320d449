"""Snapshot keys that try to leave the blob store get 4xx, and nothing outside is read."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from sightwire.storage.blobs import FileBlobStore
from tests.api.site import Site, make_event

SECRET = b"\xff\xd8\xff outside the blob store"
TRAVERSALS = [
    "../secret.jpg",
    "snapshots/../../secret.jpg",
    "..%2Fsecret.jpg",
    "%2e%2e/secret.jpg",
    "%2e%2e%2fsecret.jpg",
    "snapshots/%2e%2e/%2e%2e/secret.jpg",
    "..%5Csecret.jpg",
    "%252e%252e%252fsecret.jpg",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "snapshots/belt-1/..%00/secret.jpg",
    "C:%5Csecret.jpg",
    "../secret.pack:0+3",  # ranges of pack files
    "snapshots/%2e%2e/%2e%2e/secret.pack:0+3",
    "snapshots/belt-1/secret.pack:-1+3",
    "snapshots/belt-1/secret.pack:0+1000000000000000",
]


class Watched:
    """The blob store, with every key it was asked to read."""

    def __init__(self, inner: FileBlobStore) -> None:
        self.inner = inner
        self.read: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get(self, key: str) -> bytes:
        self.read.append(key)
        return self.inner.get(key)


@pytest.fixture
def watched(site: Site) -> Watched:
    (site.root / "secret.jpg").write_bytes(SECRET)
    assert isinstance(site.ctx.store.blobs, FileBlobStore)
    blobs = Watched(site.ctx.store.blobs)
    site.ctx.store.blobs = blobs  # type: ignore[assignment]
    return blobs


@pytest.mark.parametrize("key", TRAVERSALS)
def test_traversal_in_a_snapshot_key_is_refused(
    client: TestClient, site: Site, watched: Watched, key: str
) -> None:
    response = client.get(f"/api/v1/snapshots/{key}", headers=site.headers("admin"))
    assert 400 <= response.status_code < 500, response.text
    assert SECRET not in response.content
    assert watched.read == []


def test_an_event_naming_a_key_outside_the_store_is_not_served(
    client: TestClient, site: Site, watched: Watched
) -> None:
    forged = make_event("belt-1", "parcel.seen")
    forged = forged.model_copy(
        update={"data": forged.data.model_copy(update={"snapshot": "../secret.jpg"})}
    )
    site.ctx.store.record(forged, [])
    headers = site.headers("admin")
    response = client.get(f"/api/v1/events/{forged.id}/snapshot", headers=headers)
    assert response.status_code == 404
    assert SECRET not in response.content
    via_key = client.get("/api/v1/snapshots/../secret.jpg", headers=headers)
    assert 400 <= via_key.status_code < 500 and SECRET not in via_key.content


def test_a_real_snapshot_key_is_served(client: TestClient, site: Site, watched: Watched) -> None:
    key = site.events["belt-1"].data.snapshot
    assert key is not None and ".pack:" in key  # a range of the camera's hour's pack
    response = client.get(f"/api/v1/snapshots/{key}", headers=site.headers("viewer"))
    assert response.status_code == 200 and response.content[:3] == b"\xff\xd8\xff"
    assert watched.read == [key]
