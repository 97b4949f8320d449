"""At-least-once across a SIGKILL: an accepted event always reaches its receiver.

A real process records events and delivers them to a real HTTP receiver that is
sometimes slow; the test kills it with SIGKILL while deliveries are in flight and
pending, starts a dispatcher process again, and checks the receiver's log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from sightwire.config.delivery import DeliveryConfig
from sightwire.events.tables import deliveries, events
from sightwire.storage.blobs import FileBlobStore
from sightwire.storage.database import Database, open_database
from tests.events.crash_worker import snapshot_of
from tests.events.http_stub import Receiver

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 200


def _sometimes_slow(n: int) -> tuple[int, float]:
    return 200, (0.4 if n % 5 == 0 else 0.005)


def _worker(db_url: str, hook: str, config: DeliveryConfig, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.events.crash_worker",
            db_url,
            hook,
            config.model_dump_json(),
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _assert_snapshots_readable(db: Database, blobs: FileBlobStore) -> None:
    """Every recorded event's snapshot is there, whole, whatever the kill cut short."""
    with db.read() as conn:
        rows = conn.execute(select(events.c.id, events.c.snapshot)).all()
    assert rows
    for row in rows:
        assert row.snapshot is not None and ".pack:" in row.snapshot
        assert blobs.get(row.snapshot) == snapshot_of(row.id)


def test_sigkill_mid_delivery_loses_nothing(db_url: str, tmp_path: Path) -> None:
    # A short lease: on PostgreSQL the restarted dispatcher waits for the dead one's
    # claims to expire; on SQLite (one dispatcher) it takes them back at start.
    config = DeliveryConfig(concurrency=4, attempt_timeout_s=1.5, lease_s=3, poll_s=0.1)
    with Receiver(_sometimes_slow) as receiver:
        blobs = ["--blobs", str(tmp_path / "blobs")]  # snapshots appended to packs
        first = _worker(db_url, receiver.url, config, "--record", str(EVENTS), *blobs)
        try:
            receiver.wait_for(lambda hits: len(hits) >= 40, timeout=60)
            in_flight_at_kill = receiver.in_flight
            first.send_signal(signal.SIGKILL)
            out, err = first.communicate(timeout=10)
        finally:
            first.kill()
        assert first.returncode == -signal.SIGKILL, err
        accepted = [line.split()[1] for line in out.splitlines() if line.startswith("accepted")]
        received_before = len(receiver.delivered_ids())

        db = open_database(db_url)
        with db.read() as conn:
            recorded = set(conn.execute(select(events.c.id)).scalars())
            pending = conn.execute(
                select(deliveries.c.id).where(deliveries.c.state == "pending")
            ).all()
        assert set(accepted) <= recorded
        assert pending, "the kill came too late: nothing was left to deliver"
        _assert_snapshots_readable(db, FileBlobStore(tmp_path / "blobs"))

        second = _worker(db_url, receiver.url, config, "--timeout", "60")
        out, err = second.communicate(timeout=90)
        assert second.returncode == 0, err
        assert out.strip().endswith("pending 0")

    received = Counter(receiver.delivered_ids())
    assert set(accepted) <= set(received), "an accepted event never reached the receiver"
    assert set(received) == recorded  # de-duplicated by id: each recorded event, once
    with db.read() as conn:
        states = Counter(conn.execute(select(deliveries.c.state)).scalars())
    db.close()
    assert states == {"delivered": len(recorded)}
    print(
        f"accepted {len(accepted)}, recorded {len(recorded)}, in flight at kill "
        f"{in_flight_at_kill}, received before kill {received_before}, duplicates "
        f"{sum(received.values()) - len(received)}"
    )
