"""Blobs in an S3 bucket (AWS, MinIO, Ceph, any S3-compatible endpoint).

``store.blobs: "s3://BUCKET/PREFIX?endpoint_url=http://minio:9000&region=eu-central-1"``.
Credentials come from the standard AWS chain (``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, instance or pod roles), never from the
config file. Keys are checked exactly as the file store checks them, so a key that
one store refuses the other refuses too.

>>> store = S3BlobStore.from_url("s3://snapshots/site-a?region=eu-central-1")
>>> store.object_key("cams/belt-1/a.jpg")
'site-a/cams/belt-1/a.jpg'
>>> store.object_key("../escape")
Traceback (most recent call last):
...
sightwire.storage.blobs.BlobKeyError: blob key '../escape': '..' is not allowed in a key
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from sightwire.storage.blobs import BlobNotFoundError, check_key, put_if_absent

_OPTIONS = {"endpoint_url", "region"}
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3BlobStore:
    """Bytes by key under ``prefix`` in ``bucket``; boto3's client is thread-safe."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise ValueError("an S3 blob store needs a bucket: s3://BUCKET/PREFIX")
        self.bucket = bucket
        self.prefix = "/".join(check_key(prefix.strip("/"))) + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url
        config = Config(retries={"mode": "standard"}, s3={"addressing_style": "path"})
        self._client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        """The store ``s3://BUCKET[/PREFIX][?endpoint_url=...&region=...]`` names."""
        parts = urlsplit(url)
        if parts.scheme != "s3":
            raise ValueError(f"{url}: an S3 blob store URL starts with s3://")
        options = dict(parse_qsl(parts.query))
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ValueError(
                f"{url}: unknown option(s) {sorted(unknown)}; known: {sorted(_OPTIONS)}"
            )
        return cls(
            parts.netloc,
            parts.path,
            endpoint_url=options.get("endpoint_url"),
            region=options.get("region"),
        )

    def __repr__(self) -> str:
        where = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3BlobStore(s3://{self.bucket}/{self.prefix}{where})"

    def object_key(self, key: str) -> str:
        """The S3 object key of blob ``key``; BlobKeyError when ``key`` is unsafe."""
        return self.prefix + "/".join(check_key(key))

    def put(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data)

    def get(self, key: str) -> bytes:
        try:
            reply = self._client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _missing(exc):
                raise BlobNotFoundError(key) from None
            raise
        body: bytes = reply["Body"].read()
        return body

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        # S3 answers 204 whether or not the object was there: "absent" is no error.
        self._client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def put_snapshot(self, key: str, data: bytes, when: float) -> str | None:
        """One object a snapshot, under ``key`` (S3 has no appends; ``when`` is unused).
        None when an object is there already (a retry's: it stays)."""
        return key if put_if_absent(self, key, data) else None

    def url(self, key: str, expires_s: int = 3600) -> str:
        """A presigned GET URL for ``key``, valid ``expires_s`` seconds.

        >>> # S3BlobStore.from_url("s3://snapshots").url("cams/belt-1/a.jpg", 600)
        """
        params = {"Bucket": self.bucket, "Key": self.object_key(key)}
        url: str = self._client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=expires_s
        )
        return url


def _missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING
