"""Slack incoming webhooks, against a local server that answers as Slack does."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from sightwire.actions.slack import SlackAction
from sightwire.config.actions import SlackConfig
from sightwire.core import Event

from .conftest import make_event
from .receiver import SLACK_PATH, SlackMock

pytestmark = pytest.mark.anyio


def slack_action(url: str, **config: Any) -> SlackAction:
    return SlackAction(
        "notify_ops", SlackConfig.model_validate({"type": "slack", "url": url, **config})
    )


async def send_once(action: SlackAction, event: Event) -> Any:
    try:
        return await action.send(event)
    finally:
        await action.close()


async def test_message_has_text_fields_and_link(slack: SlackMock) -> None:
    event = make_event(tracking_number="1Z<99>&", length_mm=412.5)
    action = slack_action(
        slack.hook_url,
        text=":package: {event.type} on {data.camera}: {object.tracking_number}",
        link="https://sightwire.example/events/{event.id}",
    )
    result = await send_once(action, event)
    assert result.ok and result.status_code == 200 and "ok" in result.detail
    message = json.loads(slack.requests[0].body)
    text = ":package: com.sightwire.parcel.mismatch on belt-1: 1Z&lt;99&gt;&amp;"
    assert message["text"] == text
    header, facts, link = message["blocks"]
    assert header["text"]["text"] == f"*{text}*"
    fields = [f["text"] for f in facts["fields"]]
    assert fields[:4] == [
        "*Event*\ncom.sightwire.parcel.mismatch",
        "*Camera*\nbelt-1",
        "*Severity*\nwarning",
        f"*Time*\n{event.time}",
    ]
    assert "*tracking_number*\n1Z&lt;99&gt;&amp;" in fields
    assert "*length_mm*\n412.5" in fields
    assert link["elements"][0]["text"] == (
        f"<https://sightwire.example/events/{event.id}|Open the event>"
    )


async def test_many_attributes_stay_within_slacks_field_limit(slack: SlackMock) -> None:
    event = make_event(**{f"reading_{i}": i for i in range(20)})
    assert (await send_once(slack_action(slack.hook_url), event)).ok


async def test_rate_limit_is_retryable_with_retry_after(slack: SlackMock, event: Event) -> None:
    slack.rate_limited_for = 30
    result = await send_once(slack_action(slack.hook_url), event)
    assert (result.ok, result.retryable, result.status_code) == (False, True, 429)
    assert "rate_limited" in result.detail and "retry-after=30" in result.detail


@pytest.mark.parametrize(
    ("setup", "status", "word"),
    [("archived", 410, "channel_is_archived"), ("wrong_path", 404, "no_service")],
)
async def test_slack_errors_are_final(
    slack: SlackMock, event: Event, setup: str, status: int, word: str
) -> None:
    url = slack.hook_url
    if setup == "archived":
        slack.archived = True
    else:
        url = url.replace("/services/", "/services/gone/")
    result = await send_once(slack_action(url), event)
    assert (result.ok, result.retryable, result.status_code) == (False, False, status)
    assert word in result.detail


async def test_missing_field_in_text_is_final_and_posts_nothing(
    slack: SlackMock, event: Event
) -> None:
    result = await send_once(slack_action(slack.hook_url, text="{data.attributes.nope}"), event)
    assert not result.ok and not result.retryable and "nope" in result.detail
    assert slack.requests == []


async def test_webhook_url_is_never_logged_or_shown(
    slack: SlackMock, event: Event, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    action = slack_action(slack.hook_url)
    assert SLACK_PATH not in repr(action) and SLACK_PATH not in repr(action.config)
    assert (await send_once(action, event)).ok
    slack.archived = True
    refused = await send_once(slack_action(slack.hook_url), event)
    assert not refused.ok and SLACK_PATH not in refused.detail
    assert any(r.name == "sightwire.http" for r in caplog.records)
    assert SLACK_PATH not in caplog.text
    assert "*****" in caplog.text


async def test_unreachable_slack_is_retryable_and_hides_the_url(
    closed_port: int, event: Event
) -> None:
    url = f"http://127.0.0.1:{closed_port}{SLACK_PATH}"
    result = await send_once(slack_action(url), event)
    assert not result.ok and result.retryable and SLACK_PATH not in result.detail


async def test_an_impossible_url_is_final_and_hidden(event: Event) -> None:
    url = "https://hooks.slack.example:port" + SLACK_PATH
    result = await send_once(slack_action(url), event)
    assert not result.ok and not result.retryable and SLACK_PATH not in result.detail
