"""`sightwire run --until-end` records every event and delivers it, signed, before
it exits; `sightwire events list` finds them afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import pytest
from standardwebhooks import Webhook

from sightwire.inference.bundled import PARCELS_MODEL
from sightwire.storage.blobs import FileBlobStore
from sightwire.synth import write_conveyor

SECRET = "whsec_c2lnaHR3aXJlLXRlc3Qtc2VjcmV0LTMyYnl0ZXMh"


class Erp:
    """A webhook receiver that keeps every request's headers and body."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        erp = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                erp.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def erp() -> Iterator[Erp]:
    receiver = Erp()
    yield receiver
    receiver.server.shutdown()


@pytest.mark.parametrize("own_process", [False, True], ids=["one-process", "own-process"])
def test_run_until_end_delivers_every_event_signed(
    tmp_path: Path, erp: Erp, own_process: bool
) -> None:
    clip = tmp_path / "belt.mp4"
    write_conveyor(clip, seconds=16, parcels=4, seed=9)
    config = tmp_path / "site.yaml"
    config.write_text(f"""
version: 1
site: test
store: {{database: 'sqlite:///{tmp_path}/events.db', blobs: 'file://{tmp_path}/blobs'}}
models:
  parcels: {{path: '{PARCELS_MODEL}', confidence: 0.2}}
cameras:
  belt-1:
    source: '{clip}'
    fps: 5
    clip: {{pre_s: 2, post_s: 1}}
    lines: {{exit: [[900, 0], [900, 720]]}}
    analyse: [{{detect: {{model: parcels}}}}, {{track: {{}}}},
              {{barcode: {{within: parcel}}}}]
rules:
  - {{name: parcel.exit, on: {{line: exit, class: parcel}}}}
webhooks:
  - {{url: "${{ERP_URL}}", secret: "${{ERP_SECRET}}", types: ["com.sightwire.parcel.*"]}}
delivery: {{own_process: {str(own_process).lower()}}}
""")
    env = {**os.environ, "ERP_URL": erp.url, "ERP_SECRET": SECRET}
    sightwire = [sys.executable, "-m", "sightwire"]
    subprocess.run(
        [*sightwire, "run", str(config), "--until-end", "--json"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    listed = subprocess.run(
        [*sightwire, "events", "list", "--config", str(config), "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    recorded = json.loads(listed.stdout)
    events = recorded["events"] if isinstance(recorded, dict) else recorded
    assert len(events) >= 3
    verifier = Webhook(SECRET)
    delivered = {}
    for headers, body in erp.requests:
        payload = verifier.verify(body, headers)  # raises when the signature is wrong
        assert headers["webhook-id"] == payload["id"]
        delivered[payload["id"]] = payload
    assert set(delivered) == {e["id"] for e in events}  # each recorded event, delivered
    blobs = FileBlobStore(tmp_path / "blobs")
    for payload in delivered.values():
        assert payload["type"] == "com.sightwire.parcel.exit"
        assert payload["data"]["snapshot"]  # a redacted snapshot was stored with it
        snapshot = blobs.get(payload["data"]["snapshot"])  # a pack's range, or a file
        assert snapshot.startswith(b"\xff\xd8")  # a JPEG
        clip = tmp_path / "blobs" / payload["data"]["clip"]  # written before the run ended
        with av.open(str(clip)) as video:
            frames = sum(1 for _ in video.decode(video=0))
        assert 5 <= frames <= 16  # up to 2 s before and 1 s after, at 5 fps
