"""A real HTTP server on a free localhost port that records what it receives.

``Receiver`` answers with a configurable status, body and headers (or never answers);
``SlackMock`` speaks Slack's incoming-webhook protocol: ``ok``, 4xx with Slack's error
words, 429 with ``Retry-After``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Records every request; answers ``answer`` (or hangs while ``hang`` is set)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answer = Answer(204)
        self.hang = False
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reply(self, request: Received) -> Answer:
        """What to answer ``request``; subclasses decide by content."""
        return self.answer

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                receiver.requests.append(request)
                if receiver.hang:
                    receiver._release.wait(timeout=30)
                    return
                answer = receiver.reply(request)
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_any  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


SLACK_PATH = "/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"


class SlackMock(Receiver):
    """Slack's incoming webhook: POST JSON with ``text`` or ``blocks`` to the hook path."""

    def __init__(self) -> None:
        super().__init__()
        self.rate_limited_for: int | None = None
        self.archived = False

    @property
    def hook_url(self) -> str:
        return self.url + SLACK_PATH

    def reply(self, request: Received) -> Answer:
        if request.method != "POST" or request.path != SLACK_PATH:
            return _slack(404, "no_service")
        if self.rate_limited_for is not None:
            return _slack(429, "rate_limited", {"retry-after": str(self.rate_limited_for)})
        if self.archived:
            return _slack(410, "channel_is_archived")
        try:
            payload = json.loads(request.body)
        except ValueError:
            return _slack(400, "invalid_payload")
        if not isinstance(payload, dict) or not (payload.get("text") or payload.get("blocks")):
            return _slack(400, "no_text")
        if not _valid_blocks(payload.get("blocks", [])):
            return _slack(400, "invalid_blocks")
        return _slack(200, "ok")


def _slack(status: int, word: str, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, word.encode(), {"content-type": "text/html", **(headers or {})})


def _valid_blocks(blocks: object) -> bool:
    """The limits Slack enforces on the blocks we send."""
    checks: dict[str, Callable[[dict[str, object]], bool]] = {
        "section": lambda b: "text" in b or len(b.get("fields", [])) in range(1, 11),  # type: ignore[arg-type]
        "context": lambda b: bool(b.get("elements")),
    }
    if not isinstance(blocks, list) or len(blocks) > 50:
        return False
    return all(
        isinstance(b, dict) and b.get("type") in checks and checks[str(b["type"])](b)
        for b in blocks
    )
