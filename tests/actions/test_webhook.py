"""Webhooks: Standard Webhooks signatures checked by their library, CloudEvents by the SDK."""

from __future__ import annotations

import base64
import json

import pytest
import standardwebhooks
from cloudevents.core.formats.json import JSONFormat
from pydantic import ValidationError

from sightwire.actions.webhook import WebhookAction
from sightwire.config.actions import WebhookConfig
from sightwire.core import Event

from .conftest import make_event
from .receiver import Answer, Receiver

pytestmark = pytest.mark.anyio

SECRET = "whsec_" + base64.b64encode(b"receiver-secret-32-bytes-long!!!").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"the-previous-secret-of-32-bytes!").decode()


def hook(url: str, **overrides: object) -> WebhookAction:
    config = WebhookConfig.model_validate({"url": url, "secret": SECRET, **overrides})
    return WebhookAction("webhook:0", config)


async def deliver(action: WebhookAction, event: Event) -> None:
    try:
        result = await action.send(event)
    finally:
        await action.close()
    assert result.ok, result


async def test_receiver_library_verifies_our_signature(receiver: Receiver, event: Event) -> None:
    await deliver(hook(receiver.url + "/hooks/erp"), event)
    [request] = receiver.requests
    assert request.method == "POST" and request.path == "/hooks/erp"
    assert request.headers["content-type"].startswith("application/cloudevents+json")
    assert request.headers["webhook-id"] == event.id
    payload = standardwebhooks.Webhook(SECRET).verify(request.body, request.headers)
    assert payload["id"] == event.id


async def test_tampered_body_or_wrong_secret_is_refused(receiver: Receiver, event: Event) -> None:
    await deliver(hook(receiver.url), event)
    [request] = receiver.requests
    tampered = request.body.replace(b"belt-1", b"belt-2")
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(SECRET).verify(tampered, request.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(OLD_SECRET).verify(request.body, request.headers)


async def test_rotation_signs_with_every_secret(receiver: Receiver, event: Event) -> None:
    await deliver(hook(receiver.url, secret=[SECRET, OLD_SECRET]), event)
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET, OLD_SECRET):
        standardwebhooks.Webhook(secret).verify(request.body, request.headers)


async def test_body_is_a_cloudevent_the_sdk_reads(receiver: Receiver, event: Event) -> None:
    await deliver(hook(receiver.url), event)
    parsed = JSONFormat().read(None, receiver.requests[0].body)
    assert parsed.get_id() == event.id
    assert parsed.get_type() == "com.sightwire.parcel.mismatch"
    assert parsed.get_source() == "sightwire://dc-berlin/cameras/belt-1"
    assert parsed.get_data()["attributes"]["tracking_number"] == "1Z999AA10123456784"


async def test_retries_keep_the_message_id(receiver: Receiver, event: Event) -> None:
    action = hook(receiver.url)
    try:
        for _ in range(2):
            assert (await action.send(event)).ok
    finally:
        await action.close()
    assert [r.headers["webhook-id"] for r in receiver.requests] == [event.id, event.id]


def test_type_filters_with_wildcards() -> None:
    action = hook("http://127.0.0.1:9", types=["com.sightwire.parcel.*", "com.sightwire.*.fall"])
    assert action.accepts(make_event("parcel.mismatch"))
    assert action.accepts(make_event("person.fall"))
    assert not action.accepts(make_event("person.enter"))
    assert hook("http://127.0.0.1:9").accepts(make_event("anything.at.all"))
    assert not hook("http://127.0.0.1:9", types=[]).accepts(make_event("parcel.mismatch"))


@pytest.mark.parametrize(
    ("status", "ok", "retryable"),
    [
        (200, True, False),
        (202, True, False),
        (204, True, False),
        (301, False, False),
        (400, False, False),
        (401, False, False),
        (404, False, False),
        (410, False, False),
        (408, False, True),
        (429, False, True),
        (500, False, True),
        (502, False, True),
        (503, False, True),
    ],
)
async def test_status_mapping(
    receiver: Receiver, event: Event, status: int, ok: bool, retryable: bool
) -> None:
    receiver.answer = Answer(status, b"why" if status >= 300 else b"")
    action = hook(receiver.url)
    try:
        result = await action.send(event)
    finally:
        await action.close()
    assert (result.ok, result.status_code) == (ok, status)
    if not ok:
        assert result.retryable is retryable
        assert f"HTTP {status}" in result.detail and "why" in result.detail


async def test_retry_after_is_in_the_detail(receiver: Receiver, event: Event) -> None:
    receiver.answer = Answer(429, b"slow down", {"retry-after": "42"})
    action = hook(receiver.url)
    try:
        result = await action.send(event)
    finally:
        await action.close()
    assert result.retryable and "retry-after=42" in result.detail


async def test_receiver_that_never_answers_is_a_retryable_timeout(
    receiver: Receiver, event: Event
) -> None:
    receiver.hang = True
    action = hook(receiver.url, timeout_s=0.3)
    try:
        result = await action.send(event)
    finally:
        await action.close()
    assert not result.ok and result.retryable
    assert "no answer within 0.3 s" in result.detail
    assert len(receiver.requests) == 1  # it did arrive; the answer did not


async def test_connection_refused_is_retryable(closed_port: int, event: Event) -> None:
    action = hook(f"http://127.0.0.1:{closed_port}/hook")
    try:
        result = await action.send(event)
    finally:
        await action.close()
    assert not result.ok and result.retryable and result.status_code is None
    assert "ConnectError" in result.detail


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("whsec_not base64!", "base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "24 to 64 bytes, this one 5"),
        ([], "at least one"),
    ],
)
def test_bad_secrets_are_refused_without_repeating_them(secret: object, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WebhookConfig.model_validate({"url": "https://erp/hook", "secret": secret})
    errors = json.dumps([e["msg"] for e in caught.value.errors()])
    assert message in errors
    assert "not base64" not in errors


def test_secret_is_not_in_repr() -> None:
    action = hook("https://erp.example/hook")
    key = SECRET.removeprefix("whsec_")
    assert key not in repr(action) and key not in repr(action.config)
