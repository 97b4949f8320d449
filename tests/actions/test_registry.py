"""Building actions from a config file: every kind, webhook names, clear errors."""

from __future__ import annotations

import base64
import inspect
import typing
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from sightwire.actions import registry
from sightwire.actions.registry import ActionUnavailableError, build_action, build_actions
from sightwire.config import SightwireConfig, parse_config
from sightwire.config.actions import ActionConfig, FileConfig

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
ENV = {
    "HOOK_SECRET": SECRET,
    "WMS_TOKEN": "wms-t0ken-value",
    "SLACK_URL": "https://hooks.slack.com/services/T1/B2/s3cr3t",
    "MQTT_PASSWORD": "mqtt-pa55word",
}
CONFIG = """\
version: 1
site: dc-berlin
actions:
  route_to_qc:
    type: http
    url: "https://wms.example/parcels/{tracking_number}/route"
    headers: {Authorization: "Bearer ${WMS_TOKEN}"}
    body: {station: QC, event_id: "{event.id}"}
  notify_ops: {type: slack, url: "${SLACK_URL}"}
  to_scada: {type: mqtt, host: 127.0.0.1, topic: "sw/{data.camera}", password: "${MQTT_PASSWORD}"}
  stop_belt: {type: modbus, host: 127.0.0.1, write: coil, address: 16, value: true, pulse_ms: 500}
  audit: {type: file, path: TMP/events.jsonl}
  erp_direct: {type: webhook, url: "https://erp.example/hook", secret: "${HOOK_SECRET}"}
webhooks:
  - {url: "https://erp.example/all", secret: "${HOOK_SECRET}"}
  - {name: bi, url: "https://bi.example/in", secret: ["${HOOK_SECRET}", "${HOOK_SECRET}"],
     types: ["com.sightwire.parcel.*"]}
"""


@pytest.fixture
def config(tmp_path: Path) -> SightwireConfig:
    return parse_config(CONFIG.replace("TMP", str(tmp_path)), "cfg.yaml", ENV)


@pytest.mark.anyio
async def test_builds_every_kind_and_names_webhooks(config: SightwireConfig) -> None:
    actions = build_actions(config)
    try:
        kinds = {name: type(action).__name__ for name, action in actions.items()}
        assert kinds == {
            "route_to_qc": "HttpAction",
            "notify_ops": "SlackAction",
            "to_scada": "MqttAction",
            "stop_belt": "ModbusAction",
            "audit": "FileAction",
            "erp_direct": "WebhookAction",
            "webhook:0": "WebhookAction",
            "bi": "WebhookAction",
        }
        for action in actions.values():
            assert inspect.iscoroutinefunction(action.send)
            assert inspect.iscoroutinefunction(action.close)
        assert all(action.name == name for name, action in actions.items())
    finally:
        for action in actions.values():
            await action.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_no_secret_shows_in_reprs_of_config_or_actions(config: SightwireConfig) -> None:
    actions = build_actions(config)
    shown = repr(config) + str(config.model_dump()) + "".join(map(repr, actions.values()))
    for secret in ENV.values():
        assert secret not in shown
    assert SECRET.removeprefix("whsec_") not in shown


def test_a_webhook_named_like_an_action_is_refused(config: SightwireConfig) -> None:
    clash = config.model_copy(
        update={"webhooks": [config.webhooks[1].model_copy(update={"name": "audit"})]}
    )
    with pytest.raises(ValueError, match="'audit'"):
        build_actions(clash)


def test_every_config_kind_has_a_registry_line() -> None:
    union = typing.get_args(typing.get_args(ActionConfig)[0])
    kinds = {typing.get_args(model.model_fields["type"].annotation)[0] for model in union}
    assert kinds == set(registry.KINDS)


def test_a_missing_client_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry.KINDS, "file", ("sightwire_no_such_module", "X", "some-client"))
    with pytest.raises(ActionUnavailableError, match="pip install some-client"):
        build_action("audit", FileConfig(type="file", path="x"))


def test_the_config_schema_still_builds() -> None:
    schema = TypeAdapter(SightwireConfig).json_schema()
    assert {"HttpConfig", "SlackConfig", "MqttConfig", "ModbusConfig"} <= set(schema["$defs"])
