"""Config of what events set off: ``actions:`` (named, listed by rules) and ``webhooks:``.

Every action kind has one model here, tagged by ``type``. Fields that hold secrets
are ``SecretStr``: fill them from the environment (``${VAR}``) and they never show in
a repr, a log line or an error message. Templates (``{event.id}``, ``{data.camera}``,
``{object.tracking_number}``; see ``sightwire.actions.templates``) are checked here, so
a typo is reported with its file and line when the config is loaded.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, SecretStr, field_validator, model_validator

from sightwire.actions.templates import check_json_template, check_template
from sightwire.config.base import Name, StrictModel
from sightwire.config.security import ClientTlsConfig

TemplateStr = Annotated[str, AfterValidator(check_template)]
JsonTemplate = Annotated[dict[str, Any] | list[Any] | None, AfterValidator(check_json_template)]


def _check_secret_template(value: SecretStr) -> SecretStr:
    try:
        check_template(value.get_secret_value())
    except ValueError:  # its message would repeat the value, maybe a token
        raise ValueError(
            "a lone { or }, or a placeholder that is not a dotted field path "
            "(write {{ and }} for literal braces)"
        ) from None
    return value


SecretTemplate = Annotated[SecretStr, AfterValidator(_check_secret_template)]
Port = Annotated[int, Field(ge=1, le=65535)]
Timeout = Annotated[float, Field(gt=0, le=120, description="One attempt's time limit, seconds")]
SECRET_PREFIX = "whsec_"


class HttpConfig(StrictModel):
    """A templated REST call: WMS, ERP, ticketing, a PLC's REST gateway.

    ``route_to_qc: {type: http, method: POST, url: "${WMS_URL}/parcels/{tracking_number}/route",
    headers: {Authorization: "Bearer ${WMS_TOKEN}"}, body: {station: QC, event_id: "{event.id}"}}``
    """

    type: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: TemplateStr = Field(description="Templated URL; filled-in values are percent-encoded")
    headers: dict[str, SecretTemplate] = Field(
        default_factory=dict,
        description="Templated header values; all kept secret (they often carry tokens)",
    )
    body: JsonTemplate = Field(
        None,
        description="Templated JSON body; a value that is exactly one placeholder keeps its "
        "type. Left out: POST/PUT/PATCH send the event itself",
    )
    timeout_s: Timeout = 5.0
    tls: ClientTlsConfig | None = Field(
        None, description="TLS for https:// URLs: CA bundle, client certificate, verify"
    )


class FileConfig(StrictModel):
    """Append each event as one JSON line.

    ``audit_log: {type: file, path: data/events.jsonl, fsync: true, rotate_mb: 100, keep: 5}``
    """

    type: Literal["file"]
    path: str = Field(description="JSON-lines file to append events to")
    fsync: bool = Field(False, description="Flush each line to disk before reporting success")
    rotate_mb: float | None = Field(
        None, gt=0, description="Start a new file past this size; old ones get .1, .2, ..."
    )
    keep: int = Field(5, ge=1, le=1000, description="Rotated files to keep")


class SlackConfig(StrictModel):
    """Post to a Slack incoming webhook.

    ``notify_ops: {type: slack, url: "${SLACK_WEBHOOK_URL}",
    link: "https://sightwire.example/events/{event.id}"}``
    """

    type: Literal["slack"]
    url: SecretStr = Field(description="The incoming-webhook URL (it is the credential)")
    text: TemplateStr = "{event.type} on {data.camera} ({data.severity})"
    link: TemplateStr | None = Field(None, description="Templated link to the event or clip")
    timeout_s: Timeout = 10.0
    tls: ClientTlsConfig | None = Field(
        None, description="TLS for https:// URLs: CA bundle, client certificate, verify"
    )

    @field_validator("url")
    @classmethod
    def _https(cls, url: SecretStr) -> SecretStr:
        if not url.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL (Slack gives https://hooks.slack.com/...)")
        return url


class MqttTls(StrictModel):
    ca_file: str | None = Field(None, description="CA bundle; the system's when left out")
    cert_file: str | None = Field(None, description="Client certificate, for mutual TLS")
    key_file: str | None = None
    insecure: bool = Field(False, description="Skip the broker's hostname check (tests only)")


class MqttConfig(StrictModel):
    """Publish to an MQTT broker, one connection kept open.

    ``to_scada: {type: mqtt, host: broker.plant, topic: "sightwire/{data.camera}/{event.type}",
    qos: 1, username: sightwire, password: "${MQTT_PASSWORD}"}``
    """

    type: Literal["mqtt"]
    host: str
    port: Port = 1883
    topic: TemplateStr
    payload: str | dict[str, Any] | list[Any] | None = Field(
        None, description="Templated text or JSON; left out: the event itself"
    )
    qos: Literal[0, 1, 2] = 1
    retain: bool = False
    username: str | None = None
    password: SecretStr | None = None
    tls: bool | MqttTls | ClientTlsConfig = Field(
        False,
        description="true: the system's CAs; {ca, cert, key, verify, server_name} as "
        "everywhere else (or the older {ca_file, cert_file, key_file, insecure})",
    )
    client_id: str | None = None
    keepalive_s: int = Field(60, ge=5, le=3600)
    timeout_s: Timeout = 5.0

    @field_validator("payload")
    @classmethod
    def _payload_is_template(cls, payload: Any) -> Any:
        return check_json_template(payload)


class ModbusConfig(StrictModel):
    """Write coils or holding registers over Modbus TCP, e.g. to stop a machine.

    ``stop_belt: {type: modbus, host: 10.0.0.20, unit: 1, write: coil, address: 16,
    value: true, pulse_ms: 500}``: set coil 16, wait 0.5 s, clear it again.
    """

    type: Literal["modbus"]
    host: str
    port: Port = 502
    unit: int = Field(1, ge=0, le=255, description="Modbus unit (slave/device) id")
    write: Literal["coil", "register"] = Field(description="coil(s) or holding register(s)")
    address: int = Field(
        ge=0, le=65535, description="Protocol address, from 0 (holding register 40001 is 0)"
    )
    value: bool | int | list[bool | int] = Field(description="One value, or one per address")
    pulse_ms: int | None = Field(
        None, ge=1, le=60_000, description="Write, wait this long, then write `reset`"
    )
    reset: bool | int | list[bool | int] | None = Field(
        None, description="Written after the pulse; default: coils flipped, registers 0"
    )
    timeout_s: Timeout = 3.0

    @model_validator(mode="after")
    def _values_fit(self) -> Self:
        values = self.values()
        limit = 1968 if self.write == "coil" else 123
        if not 1 <= len(values) <= limit:
            raise ValueError(f"value: 1 to {limit} values per {self.write} write")
        if self.address + len(values) > 65536:
            raise ValueError("value: the values run past address 65535")
        if self.reset is not None and len(self.reset_values()) != len(values):
            raise ValueError("reset: give as many values as `value`")
        return self

    def values(self) -> list[int] | list[bool]:
        """``value`` as a list of the write's type."""
        return _typed(self.value, self.write, "value")

    def reset_values(self) -> list[int] | list[bool]:
        """What a pulse writes back."""
        if self.reset is not None:
            return _typed(self.reset, self.write, "reset")
        if self.write == "coil":
            return [not bit for bit in _typed(self.value, "coil", "value")]
        return [0] * len(self.values())


def _typed(raw: bool | int | list[bool | int], write: str, field: str) -> list[int] | list[bool]:
    items = raw if isinstance(raw, list) else [raw]
    if write == "coil":
        if any(item not in (0, 1) for item in items):
            raise ValueError(f"{field}: coils take true/false (or 1/0)")
        return [bool(item) for item in items]
    if any(isinstance(item, bool) or not 0 <= item <= 65535 for item in items):
        raise ValueError(f"{field}: registers take whole numbers from 0 to 65535")
    return [int(item) for item in items]


class WebhookFields(StrictModel):
    """A Standard Webhooks endpoint: the event is POSTed as a signed CloudEvent."""

    url: str = Field(description="The receiver's http(s) URL")
    secret: SecretStr | list[SecretStr] = Field(
        description="Standard Webhooks secret (whsec_ + base64); use ${VAR}, never a literal. "
        "A list signs with each (rotation): receivers accept any one"
    )
    types: list[str] = Field(
        default_factory=lambda: ["com.sightwire.*"],
        description="Event types to send; * matches anything",
    )
    timeout_s: Timeout = 10.0
    tls: ClientTlsConfig | None = Field(
        None, description="TLS for https:// URLs: CA bundle, client certificate, verify"
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return url

    @field_validator("secret")
    @classmethod
    def _secrets_decode(cls, secret: SecretStr | list[SecretStr]) -> SecretStr | list[SecretStr]:
        for item in secret if isinstance(secret, list) else [secret]:
            if not _unexpanded(item.get_secret_value()):  # the loader named the variable
                secret_key(item)
        if isinstance(secret, list) and not secret:
            raise ValueError("give at least one secret")
        return secret

    def secrets(self) -> list[SecretStr]:
        return self.secret if isinstance(self.secret, list) else [self.secret]


def _unexpanded(text: str) -> bool:
    return text.startswith("${") and text.endswith("}")


def secret_key(secret: SecretStr) -> bytes:
    """The HMAC key of a ``whsec_...`` secret; the error never repeats the secret."""
    text = secret.get_secret_value().strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError(f"a webhook secret holds 24 to 64 bytes, this one {len(key)}")
    return key


class WebhookConfig(WebhookFields):
    """An entry of ``webhooks:``: gets every event whose type matches ``types``.

    ``- {url: "${ERP_HOOK_URL}", secret: "${ERP_HOOK_SECRET}", types: ["com.sightwire.*"]}``
    """

    name: Name | None = Field(None, description="Action name; default webhook:<index>")


class WebhookActionConfig(WebhookFields):
    """A webhook under ``actions:``, sent when a rule lists it."""

    type: Literal["webhook"]


class NatsConfig(StrictModel):
    """Publish each event to a NATS subject; with JetStream the server confirms it and
    drops a retried duplicate (``Nats-Msg-Id`` is the event id).

    ``to_bus: {type: nats, url: "nats://nats:4222", subject: "sightwire.events.{data.camera}",
    token: "${NATS_TOKEN}"}``
    """

    type: Literal["nats"]
    url: str = Field(description="nats://host:4222 (tls://... for TLS); commas between servers")
    subject: TemplateStr = "sightwire.events.{data.camera}"
    jetstream: bool = Field(
        True, description="Wait for a JetStream stream's ack; false: core NATS, no confirmation"
    )
    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    creds_file: str | None = Field(None, description="A .creds file (NKey + JWT)")
    ca_file: str | None = Field(None, description="CA bundle for tls:// servers")
    timeout_s: Timeout = 5.0

    @field_validator("url")
    @classmethod
    def _nats_url(cls, url: str) -> str:
        if not all(part.strip().startswith(("nats://", "tls://")) for part in url.split(",")):
            raise ValueError("give nats://host:4222 or tls://host:4222, commas between servers")
        return url


class KafkaConfig(StrictModel):
    """Publish each event to a Kafka topic (CloudEvents structured mode).

    ``to_kafka: {type: kafka, bootstrap_servers: "kafka-0:9092,kafka-1:9092",
    topic: sightwire.events, key: "{data.camera}"}``
    """

    type: Literal["kafka"]
    bootstrap_servers: str = Field(description="host:port, commas between brokers")
    topic: TemplateStr = "sightwire.events"
    key: TemplateStr = Field(
        "{data.camera}", description="Record key: one camera's events stay in order"
    )
    acks: Literal["all", 1] = "all"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    username: str | None = None
    password: SecretStr | None = None
    ca_file: str | None = Field(None, description="CA bundle for SSL / SASL_SSL")
    timeout_s: Timeout = 10.0


ActionConfig = Annotated[
    HttpConfig
    | FileConfig
    | SlackConfig
    | MqttConfig
    | ModbusConfig
    | WebhookActionConfig
    | NatsConfig
    | KafkaConfig,
    Field(discriminator="type"),
]
