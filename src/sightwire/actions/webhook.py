"""Webhooks: POST the CloudEvent, signed per the Standard Webhooks spec.

The body is the event in CloudEvents structured mode (``application/cloudevents+json``).
Headers (https://www.standardwebhooks.com/):

- ``webhook-id``: the event id, the same on every retry, so receivers deduplicate;
- ``webhook-timestamp``: seconds since the epoch at this attempt;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` per
  configured secret, space-separated, so a receiver may rotate its secret.

Config::

    webhooks:
      - url: "${ERP_HOOK_URL}"
        secret: "${ERP_HOOK_SECRET}"          # whsec_<base64>; a list while rotating
        types: ["com.sightwire.parcel.*"]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable

from sightwire.actions.base import ActionResult
from sightwire.actions.envelope import CLOUDEVENTS_JSON, TypeFilter, cloudevent_json
from sightwire.actions.http_pool import HttpPool
from sightwire.config.actions import WebhookFields, secret_key
from sightwire.core import Event


def sign(keys: Iterable[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: one ``v1,<base64>`` per key.

    >>> sign([b"k" * 24], "msg_1", 1700000000, b"{}")
    'v1,E3sCg9uS8x43RKlJqcda1EcaYZxNkN+l2u7RBZBSZQQ='
    """
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        for key in keys
    )


class WebhookAction:
    """Sends events whose type matches the config's ``types`` to one receiver."""

    def __init__(self, name: str, config: WebhookFields) -> None:
        self.name = name
        self.config = config
        self.types = TypeFilter(config.types)
        self._keys = [secret_key(secret) for secret in config.secrets()]
        self._pool = HttpPool(config.timeout_s, config.tls)

    def __repr__(self) -> str:
        return f"WebhookAction({self.name!r}, url={self.config.url!r}, types={self.types.patterns})"

    def accepts(self, event: Event) -> bool:
        return self.types.accepts(event.type)

    def signed(self, event: Event, now: float | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers of the signed POST for ``event`` at time ``now``."""
        body = cloudevent_json(event)
        timestamp = int(time.time() if now is None else now)
        headers = {
            "content-type": CLOUDEVENTS_JSON,
            "webhook-id": event.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self._keys, event.id, timestamp, body),
        }
        return body, headers

    async def send(self, event: Event) -> ActionResult:
        body, headers = self.signed(event)
        return await self._pool.post(self.config.url, body, headers)

    async def close(self) -> None:
        await self._pool.close()
