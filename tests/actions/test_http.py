"""Templated HTTP calls against a real local server; secrets stay out of reprs and logs."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from sightwire.actions.http import HttpAction
from sightwire.config import ConfigError, parse_config
from sightwire.config.actions import HttpConfig
from sightwire.core import Event

from .conftest import make_event
from .receiver import Answer, Receiver

pytestmark = pytest.mark.anyio

TOKEN = "tok-5ecret-d0-not-log"


def action(**config: Any) -> HttpAction:
    return HttpAction("route_to_qc", HttpConfig.model_validate({"type": "http", **config}))


async def send_once(http: HttpAction, event: Event) -> Any:
    try:
        return await http.send(event)
    finally:
        await http.close()


async def test_url_headers_and_body_are_rendered(receiver: Receiver) -> None:
    event = make_event(tracking_number="1Z 99/A", length_mm=412.5)
    http = action(
        url=receiver.url + "/parcels/{tracking_number}/route?camera={data.camera}",
        headers={"Authorization": f"Bearer {TOKEN}", "X-Camera": "{data.camera}"},
        body={"station": "QC", "event_id": "{event.id}", "length_mm": "{object.length_mm}"},
    )
    result = await send_once(http, event)
    assert result.ok and result.status_code == 204
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/parcels/1Z%2099%2FA/route?camera=belt-1"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-camera"] == "belt-1"
    assert request.headers["idempotency-key"] == event.id
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"station": "QC", "event_id": event.id, "length_mm": 412.5}


async def test_without_a_body_post_sends_the_event_and_get_sends_nothing(
    receiver: Receiver, event: Event
) -> None:
    assert (await send_once(action(url=receiver.url + "/e"), event)).ok
    assert (await send_once(action(method="GET", url=receiver.url + "/e/{event.id}"), event)).ok
    post, get = receiver.requests
    assert json.loads(post.body)["id"] == event.id
    assert post.headers["content-type"].startswith("application/cloudevents+json")
    assert (get.method, get.path, get.body) == ("GET", f"/e/{event.id}", b"")


async def test_configured_header_overrides_ours_whatever_its_case(
    receiver: Receiver, event: Event
) -> None:
    http = action(url=receiver.url, headers={"Idempotency-Key": "{tracking_number}"})
    assert (await send_once(http, event)).ok
    [request] = receiver.requests
    assert request.headers["idempotency-key"] == "1Z999AA10123456784"


async def test_missing_field_is_not_retryable_and_sends_nothing(
    receiver: Receiver, event: Event
) -> None:
    http = action(url=receiver.url + "/parcels/{data.attributes.weight_kg}")
    result = await send_once(http, event)
    assert not result.ok and not result.retryable
    assert "'data.attributes.weight_kg'" in result.detail
    assert receiver.requests == []


async def test_missing_field_in_a_secret_header_does_not_leak_it(event: Event) -> None:
    http = action(url="http://127.0.0.1:9/x", headers={"Authorization": TOKEN + " {nope}"})
    result = await send_once(http, event)
    assert not result.retryable and "'nope'" in result.detail
    assert TOKEN not in result.detail


async def test_4xx_is_final_and_5xx_is_retryable(receiver: Receiver, event: Event) -> None:
    receiver.answer = Answer(422, b'{"error": "unknown station"}')
    result = await send_once(action(url=receiver.url), event)
    assert (result.ok, result.retryable, result.status_code) == (False, False, 422)
    assert "unknown station" in result.detail
    receiver.answer = Answer(503, b"maintenance", {"retry-after": "120"})
    result = await send_once(action(url=receiver.url), event)
    assert (result.ok, result.retryable, result.status_code) == (False, True, 503)
    assert "retry-after=120" in result.detail


async def test_secrets_stay_out_of_repr_and_logs(
    receiver: Receiver, event: Event, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    http = action(url=receiver.url + "/p", headers={"Authorization": f"Bearer {TOKEN}"})
    assert TOKEN not in repr(http) and TOKEN not in repr(http.config)
    assert TOKEN not in str(http.config.model_dump())
    receiver.answer = Answer(401, b"bad token")
    result = await send_once(http, event)
    assert result.status_code == 401 and TOKEN not in result.detail
    assert any(r.name == "sightwire.http" for r in caplog.records)  # the request was logged
    assert TOKEN not in caplog.text


def test_template_typos_are_reported_with_file_and_line() -> None:
    text = (
        "actions:\n"
        "  qc:\n"
        "    type: http\n"
        "    url: http://wms/parcels/{tracking_number!r}\n"
        "    headers: {Authorization: 'Bearer s3cr3t-t0ken {oops'}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "cfg.yaml")
    message = str(caught.value)
    assert "cfg.yaml:4: actions.qc.url:" in message and "not a field path" in message
    assert "cfg.yaml:5: actions.qc.headers.Authorization:" in message
    assert "s3cr3t-t0ken" not in message


async def test_an_impossible_url_is_final_not_an_exception(event: Event) -> None:
    result = await send_once(action(url="http://127.0.0.1:{data.camera}/x"), event)
    assert not result.ok and not result.retryable and "port" in result.detail.lower()
