"""The WMS simulator's server; see :mod:`sightwire.wms`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from sightwire.synth.truth import GroundTruth, ManifestEntry

MAX_BODY = 64 * 1024
"""Largest route request accepted, bytes."""


@dataclass(frozen=True, slots=True)
class Route:
    """One routing instruction the WMS accepted."""

    tracking_number: str
    station: str
    reason: str
    event_id: str
    received_at: float
    """Wall-clock time (Unix seconds) the request arrived."""
    body: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class WmsSimulator:
    """An in-memory WMS on ``host``:``port`` (0: any free port) serving ``manifest``.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self, manifest: Iterable[ManifestEntry], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.manifest = {e.tracking_number: e for e in manifest}
        self._routes: list[Route] = []
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self.lookups = 0
        self.looked_up: list[str] = []
        """Every tracking number asked for, in order (unknown ones too)."""
        self.duplicates = 0
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @classmethod
    def from_truth(cls, path: str | Path, host: str = "127.0.0.1", port: int = 0) -> WmsSimulator:
        """A WMS serving the manifest of a synthetic clip's ground truth (``.json`` or
        the ``.mp4`` beside it)."""
        return cls(GroundTruth.load(path).manifest, host, port)

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8765`` (no trailing slash)."""
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{name}:{port}"

    def start(self) -> WmsSimulator:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="wms-simulator", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WmsSimulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def routes(self) -> list[Route]:
        """Every routing instruction accepted so far (duplicates left out), in order."""
        with self._lock:
            return list(self._routes)

    def parcel(self, tracking_number: str) -> dict[str, Any] | None:
        entry = self.manifest.get(tracking_number)
        return None if entry is None else entry.model_dump()

    def route(self, tracking_number: str, body: dict[str, Any]) -> bool:
        """Record a route; False when its ``event_id`` was seen before (a duplicate)."""
        event_id = str(body.get("event_id") or "")
        with self._lock:
            if event_id and event_id in self._seen:
                self.duplicates += 1
                return False
            if event_id:
                self._seen.add(event_id)
            self._routes.append(
                Route(
                    tracking_number=tracking_number,
                    station=str(body.get("station", "")),
                    reason=str(body.get("reason", "")),
                    event_id=event_id,
                    received_at=time.time(),
                    body=body,
                )
            )
            return True


def _handler(wms: WmsSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "sightwire-wms-simulator"

        def do_GET(self) -> None:
            parts = _parts(self.path)
            if len(parts) == 2 and parts[0] == "parcels":
                with wms._lock:
                    wms.lookups += 1
                    wms.looked_up.append(parts[1])
                found = wms.parcel(parts[1])
                if found is None:
                    self._json(404, {"error": f"no parcel {parts[1]}"})
                else:
                    self._json(200, found)
            elif parts == ["routes"]:
                self._json(200, [r.as_dict() for r in wms.routes()])
            else:
                self._json(404, {"error": "not found"})

        def do_POST(self) -> None:
            parts = _parts(self.path)
            if len(parts) != 3 or parts[0] != "parcels" or parts[2] != "route":
                self._json(404, {"error": "not found"})
                return
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self._json(413, {"error": "body too large"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._json(400, {"error": "body is not JSON"})
                return
            if not isinstance(body, dict) or not body.get("station"):
                self._json(422, {"error": "need a JSON object with station"})
                return
            fresh = wms.route(parts[1], body)
            self._json(200, {"accepted": True, "duplicate": not fresh})

        def _json(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def _parts(path: str) -> list[str]:
    return [unquote(p) for p in urlsplit(path).path.split("/") if p]
