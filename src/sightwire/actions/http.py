"""HTTP calls built from templates: WMS, ERP, ticketing, PLC REST gateways.

Config::

    actions:
      route_to_qc:
        type: http
        method: POST
        url: "${WMS_URL}/parcels/{tracking_number}/route"
        headers: {Authorization: "Bearer ${WMS_TOKEN}"}
        body: {station: QC, event_id: "{event.id}", weight_kg: "{data.attributes.weight_kg}"}

Values filled into the URL are percent-encoded (a tracking number ``A/B`` stays one
path segment); ``weight_kg`` above stays a number because it is exactly one
placeholder. Every request carries ``Idempotency-Key: <event id>`` (unless the config
sets it), so a receiver can ignore a retried delivery. Header values are secrets: they
are never logged and never appear in a repr or a delivery detail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from multidict import CIMultiDict

from sightwire.actions.base import ActionResult
from sightwire.actions.delivery import refused
from sightwire.actions.envelope import CLOUDEVENTS_JSON, cloudevent_json
from sightwire.actions.http_pool import HttpPool
from sightwire.actions.templates import (
    Template,
    TemplateError,
    event_context,
    header_value,
    render_json,
    url_part,
)
from sightwire.config.actions import HttpConfig
from sightwire.core import Event

_SENDS_EVENT = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One rendered request (headers are case-insensitive)."""

    method: str
    url: str
    headers: CIMultiDict[str]
    body: bytes | None


class HttpAction:
    """One templated HTTP request per event."""

    def __init__(self, name: str, config: HttpConfig) -> None:
        self.name = name
        self.config = config
        self._url = Template.parse(config.url)
        self._headers = {
            key: Template.parse(value.get_secret_value()) for key, value in config.headers.items()
        }
        self._secrets = [value.get_secret_value() for value in config.headers.values()]
        self._pool = HttpPool(config.timeout_s, config.tls)

    def __repr__(self) -> str:
        return f"HttpAction({self.name!r}, {self.config.method} {self.config.url!r})"

    def accepts(self, event: Event) -> bool:
        return True

    def request(self, event: Event) -> HttpRequest:
        """The request for ``event``; raises :class:`TemplateError` on a missing field."""
        context = event_context(event)
        url = self._url.render(context, url_part)
        headers: CIMultiDict[str] = CIMultiDict({"idempotency-key": event.id})
        for key, template in self._headers.items():
            headers[key] = template.render(context, header_value)
        content: bytes | None = None
        if self.config.body is not None:
            body = render_json(self.config.body, context)
            content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers.setdefault("content-type", "application/json")
        elif self.config.method in _SENDS_EVENT:
            content = cloudevent_json(event)
            headers.setdefault("content-type", CLOUDEVENTS_JSON)
        return HttpRequest(self.config.method, url, headers, content)

    async def send(self, event: Event) -> ActionResult:
        try:
            request = self.request(event)
        except TemplateError as exc:  # a header can hold a token: masked
            return refused(exc, self._secrets)
        return await self._pool.send(
            request.method, request.url, request.body, request.headers, self._secrets
        )

    async def close(self) -> None:
        await self._pool.close()
