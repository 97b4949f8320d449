"""The S3 blob store against a real S3-API server (moto_server as a subprocess)."""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Iterator

import boto3
import pytest

from sightwire.storage.blobs import BlobKeyError, BlobNotFoundError, open_blob_store
from sightwire.storage.s3 import S3BlobStore
from tests.bus.servers import moto

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto() as url:
        yield url


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials through the standard AWS environment variables, as in production."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def bucket(endpoint: str, aws_env: None) -> str:
    name = f"sightwire-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


@pytest.fixture
def store(endpoint: str, bucket: str) -> S3BlobStore:
    blobs = open_blob_store(f"s3://{bucket}/site-a?endpoint_url={endpoint}&region=us-east-1")
    assert isinstance(blobs, S3BlobStore)
    return blobs


def test_put_get_exists_delete(store: S3BlobStore, endpoint: str, bucket: str) -> None:
    jpeg = b"\xff\xd8" + bytes(range(256)) * 40 + b"\xff\xd9"
    store.put("snapshots/belt-1/2026/11/27/01J.jpg", jpeg)
    assert store.get("snapshots/belt-1/2026/11/27/01J.jpg") == jpeg
    assert store.exists("snapshots/belt-1/2026/11/27/01J.jpg")
    raw = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    listed = raw.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["site-a/snapshots/belt-1/2026/11/27/01J.jpg"]
    store.put("snapshots/belt-1/2026/11/27/01J.jpg", b"replaced")
    assert store.get("snapshots/belt-1/2026/11/27/01J.jpg") == b"replaced"
    store.delete("snapshots/belt-1/2026/11/27/01J.jpg")
    assert not store.exists("snapshots/belt-1/2026/11/27/01J.jpg")
    store.delete("snapshots/belt-1/2026/11/27/01J.jpg")  # absent: no error


def test_a_missing_blob_is_blob_not_found(store: S3BlobStore) -> None:
    with pytest.raises(BlobNotFoundError):
        store.get("snapshots/none.jpg")
    assert not store.exists("snapshots/none.jpg")


@pytest.mark.parametrize(
    "key", ["../escape.jpg", "a/../../b", "/abs.jpg", "C:/x", "a\\b", "a//b", "./a", "", "a\x00b"]
)
def test_unsafe_keys_are_refused_like_the_file_store(store: S3BlobStore, key: str) -> None:
    with pytest.raises(BlobKeyError):
        store.put(key, b"x")
    with pytest.raises(BlobKeyError):
        store.get(key)


def test_a_presigned_url_serves_the_blob(store: S3BlobStore) -> None:
    store.put("clips/a.mp4", b"clip bytes")
    with urllib.request.urlopen(store.url("clips/a.mp4", expires_s=60), timeout=10) as reply:
        assert reply.read() == b"clip bytes"


def test_a_url_with_an_unknown_option_or_no_bucket_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown option"):
        S3BlobStore.from_url("s3://bucket/p?secret_key=oops")
    with pytest.raises(ValueError, match="needs a bucket"):
        S3BlobStore.from_url("s3:///prefix")


def test_no_prefix_stores_at_the_bucket_root(endpoint: str, bucket: str) -> None:
    store = S3BlobStore.from_url(f"s3://{bucket}?endpoint_url={endpoint}&region=us-east-1")
    store.put("a.jpg", b"a")
    assert store.object_key("a.jpg") == "a.jpg"
    assert store.get("a.jpg") == b"a"
