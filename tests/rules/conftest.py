"""A real HTTP server on the loopback for the lookup tests: a tiny WMS."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Wms:
    """Answers ``/parcels/ID`` from ``manifests`` (404 if absent), ``/broken/ID`` with
    bad JSON, ``/error/ID`` with 500, ``/slow/ID`` only once ``release`` is set."""

    url: str
    manifests: dict[str, dict[str, object]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(wms: Wms) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with wms.lock:
                wms.requests[self.path] += 1
            kind, _, key = self.path.strip("/").partition("/")
            if kind == "slow":
                wms.release.wait(5.0)
            if kind == "parcels" and key in wms.manifests:
                self._answer(200, json.dumps(wms.manifests[key]).encode())
            elif kind in ("broken", "slow"):
                self._answer(200, b'{"length_mm": 4' if kind == "broken" else b"{}")
            elif kind == "error":
                self._answer(500, b"{}")
            else:
                self._answer(404, b'{"error": "unknown parcel"}')

        def _answer(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def wms() -> Iterator[Wms]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(Wms("")))
    wms = Wms(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(wms)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield wms
    finally:
        wms.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
