"""A real HTTP receiver for delivery tests, and a stand-in webhook action that posts to it.

The receiver is a threaded ``http.server`` on 127.0.0.1 (a real socket, keep-alive).
Its ``behaviour`` decides, per request number, the status and how long to take
before answering; it records every request's ``webhook-id`` and arrival time.
Tests wait on it with deadlines (:meth:`Receiver.wait_for`), never by sleeping.

The stand-in action posts the CloudEvent JSON with a ``webhook-id`` header and signs
nothing: the signed webhook action is another module's; this one exercises the
dispatcher.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from sightwire.actions.base import ActionResult
from sightwire.core import Event

Behaviour = Callable[[int], tuple[int, float]]  # request number -> (status, delay seconds)


def always_ok(_n: int) -> tuple[int, float]:
    return 200, 0.0


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the receiver got."""

    webhook_id: str
    event_id: str
    at: float
    status: int


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected here


class Receiver:
    """An HTTP server that records deliveries; use as a context manager."""

    def __init__(self, behaviour: Behaviour = always_ok) -> None:
        self.behaviour = behaviour
        self.hits: list[Hit] = []
        self._changed = threading.Condition()
        self._count = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def delivered_ids(self) -> list[str]:
        """Event ids of requests answered 2xx, in arrival order (duplicates kept)."""
        with self._changed:
            return [h.event_id for h in self.hits if 200 <= h.status < 300]

    def wait_for(self, condition: Callable[[list[Hit]], bool], timeout: float) -> list[Hit]:
        """Block until ``condition(hits)`` holds; AssertionError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self.hits):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receiver: condition not met in {timeout} s")
                self._changed.wait(left)
            return list(self.hits)

    def _arrived(self) -> int:
        with self._changed:
            self._count += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            return self._count

    def _record(self, hit: Hit) -> None:
        with self._changed:
            self.in_flight -= 1
            self.hits.append(hit)
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status, delay = receiver.behaviour(receiver._arrived())
                if delay:
                    time.sleep(delay)  # a slow server, on purpose
                event_id = json.loads(body).get("id", "")
                receiver._record(
                    Hit(self.headers.get("webhook-id", ""), event_id, time.time(), status)
                )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        return Handler


class HttpPost:
    """A minimal webhook-like action: POST the event JSON, ``webhook-id`` = event id."""

    def __init__(self, name: str, url: str, timeout_s: float = 30.0) -> None:
        self.name = name
        self.url = url
        self._client = httpx.AsyncClient(timeout=timeout_s)

    def accepts(self, event: Event) -> bool:
        return True

    async def send(self, event: Event) -> ActionResult:
        try:
            response = await self._client.post(
                self.url,
                content=event.model_dump_json(exclude_none=True),
                headers={"content-type": "application/json", "webhook-id": event.id},
            )
        except httpx.HTTPError as exc:
            return ActionResult(ok=False, detail=f"{type(exc).__name__}: {exc}")
        code = response.status_code
        retryable = code >= 500 or code in (408, 429)
        return ActionResult(ok=code < 300, retryable=retryable, status_code=code)

    async def close(self) -> None:
        await self._client.aclose()
