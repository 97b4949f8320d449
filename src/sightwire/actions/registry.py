"""Build actions from config: one line per kind in ``KINDS``.

Adding a kind: write ``actions/<kind>.py`` with a class taking ``(name, config)``, add
its config model to ``config/actions.py``'s ``ActionConfig`` union, and one line here.
A kind's module is imported only when a config uses it, so a missing client library
(``aiomqtt``, ``pymodbus``) only matters to configs that need it.

>>> from sightwire.config import parse_config
>>> cfg = parse_config("actions: {log: {type: file, path: /tmp/e.jsonl}}\\n", "cfg.yaml")
>>> sorted(build_actions(cfg))
['log']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

from pydantic import BaseModel

from sightwire.actions.base import Action
from sightwire.config.actions import ActionConfig, WebhookConfig
from sightwire.config.models import SightwireConfig

# type -> (module, class, package that provides its client library)
KINDS: dict[str, tuple[str, str, str]] = {
    "webhook": ("sightwire.actions.webhook", "WebhookAction", "aiohttp"),
    "http": ("sightwire.actions.http", "HttpAction", "aiohttp"),
    "slack": ("sightwire.actions.slack", "SlackAction", "aiohttp"),
    "mqtt": ("sightwire.actions.mqtt", "MqttAction", "aiomqtt"),
    "modbus": ("sightwire.actions.modbus", "ModbusAction", "pymodbus"),
    "file": ("sightwire.actions.file", "FileAction", ""),
    "nats": ("sightwire.actions.nats", "NatsAction", "nats-py"),
    "kafka": ("sightwire.actions.kafka", "KafkaAction", "aiokafka"),
}


class ActionUnavailableError(RuntimeError):
    """An action kind whose client library is not installed."""


def build_action(name: str, config: ActionConfig | WebhookConfig) -> Action:
    """The action ``config`` describes (a ``webhooks:`` entry is a webhook)."""
    kind = "webhook" if isinstance(config, WebhookConfig) else config.type
    module_name, class_name, package = KINDS[kind]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ActionUnavailableError(
            f"action {name!r} ({kind}) needs {exc.name}: pip install {package or exc.name}"
        ) from exc
    factory = getattr(module, class_name)
    return cast(Action, factory(name, cast(BaseModel, config)))


def build_actions(config: SightwireConfig) -> dict[str, Action]:
    """Every action of a config by name: ``actions:`` by their key, ``webhooks:`` entries
    as ``webhook:<index>`` or their ``name``."""
    actions = {name: build_action(name, action) for name, action in config.actions.items()}
    for index, hook in enumerate(config.webhooks):
        name = hook.name or f"webhook:{index}"
        if name in actions:
            raise ValueError(f"webhooks[{index}] is named {name!r}, like an entry of actions")
        actions[name] = build_action(name, hook)
    return actions


if TYPE_CHECKING:  # mypy checks that every kind keeps the Action protocol
    from sightwire.actions.file import FileAction
    from sightwire.actions.http import HttpAction
    from sightwire.actions.kafka import KafkaAction
    from sightwire.actions.modbus import ModbusAction
    from sightwire.actions.mqtt import MqttAction
    from sightwire.actions.nats import NatsAction
    from sightwire.actions.slack import SlackAction
    from sightwire.actions.webhook import WebhookAction

    _KEEP_THE_PROTOCOL: tuple[type[Action], ...] = (
        FileAction,
        HttpAction,
        KafkaAction,
        ModbusAction,
        MqttAction,
        NatsAction,
        SlackAction,
        WebhookAction,
    )
