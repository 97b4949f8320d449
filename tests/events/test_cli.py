"""``sightwire events list|show|replay`` and ``sightwire db upgrade`` on a real store."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from sightwire.cli import app
from sightwire.config.delivery import BackoffConfig, BreakerConfig, DeliveryConfig
from sightwire.config.models import StoreConfig
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.metrics import EventMetrics
from sightwire.events.store import EventStore
from sightwire.storage.blobs import open_blob_store
from sightwire.storage.database import open_database
from sightwire.storage.migrate import head_revision
from tests.events.factory import make_event
from tests.events.http_stub import HttpPost, Receiver

SIGHTWIRE = [sys.executable, "-m", "sightwire"]
T0 = 1_800_000_000.0


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        f"version: 1\nstore:\n  database: sqlite:///{tmp_path / 'db' / 'sightwire.db'}\n"
        f"  blobs: file://{tmp_path / 'blobs'}\n"
    )
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EventStore]:
    settings = StoreConfig(
        database=f"sqlite:///{tmp_path / 'db' / 'sightwire.db'}",
        blobs=f"file://{tmp_path / 'blobs'}",
    )
    db = open_database(settings.database, migrate=True)
    yield EventStore(db, open_blob_store(settings.blobs), EventMetrics(CollectorRegistry()))
    db.close()


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_list_filters_and_pages(store: EventStore, config: Path) -> None:
    made = [
        store.record(make_event(kind=k, camera=c, at=T0 + i), ["erp"])
        for i, (k, c) in enumerate(
            [("parcel.seen", "belt-1"), ("parcel.mismatch", "belt-2"), ("person.zone", "belt-1")]
            * 3
        )
    ]
    listed = json.loads(_cli("events", "list", "--config", str(config), "--json"))
    assert [e["id"] for e in listed["events"]] == [e.id for e in reversed(made)]
    parcels = json.loads(
        _cli(
            "events",
            "list",
            "-c",
            str(config),
            "--type",
            "parcel.*",
            "--camera",
            "belt-1",
            "--json",
        )
    )
    assert [e["id"] for e in parcels["events"]] == [made[6].id, made[3].id, made[0].id]
    first = json.loads(_cli("events", "list", "-c", str(config), "--limit", "4", "--json"))
    rest = json.loads(
        _cli("events", "list", "-c", str(config), "--cursor", first["next_cursor"], "--json")
    )
    assert [e["id"] for e in first["events"] + rest["events"]] == [e.id for e in reversed(made)]
    table = _cli("events", "list", "-c", str(config), "--limit", "2")
    assert made[-1].id in table and "person.zone" in table and "more: --cursor" in table


def test_show_prints_the_event_and_its_attempt_log(store: EventStore, config: Path) -> None:
    event = store.record(make_event(), ["erp", "slack"], snapshot=b"jpeg")
    shown = json.loads(_cli("events", "show", event.id, "-c", str(config), "--json"))
    assert shown["event"]["id"] == event.id
    assert shown["event"]["data"]["snapshot"].startswith("snapshots/belt-1/")
    assert [(d["destination"], d["state"], d["log"]) for d in shown["deliveries"]] == [
        ("erp", "pending", []),
        ("slack", "pending", []),
    ]
    missing = CliRunner().invoke(app, ["events", "show", "01NOPE", "-c", str(config)])
    assert missing.exit_code == 1 and "no event 01NOPE" in missing.output


def test_bad_options_are_refused_with_a_reason(config: Path) -> None:
    runner = CliRunner()
    for args, message in [
        (["events", "list", "--since", "yesterday"], "ISO 8601"),
        (["events", "list", "--severity", "loud"], "one of debug"),
        (["events", "list", "--cursor", "zzz"], "invalid cursor"),
        (["events", "replay"], "say what to replay"),
    ]:
        result = runner.invoke(app, [*args, "-c", str(config)])
        assert result.exit_code != 0 and message in result.output, result.output


def test_db_upgrade_builds_the_schema(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(f"version: 1\nstore:\n  database: sqlite:///{tmp_path / 'new.db'}\n")
    answer = _cli("db", "upgrade", "--config", str(config))
    assert f"schema at revision {head_revision()}" in answer  # the newest migration
    assert (tmp_path / "new.db").exists()


@pytest.mark.anyio
async def test_replay_dead_delivers_the_dead_letters(store: EventStore, config: Path) -> None:
    failing = True

    def down_then_up(_n: int) -> tuple[int, float]:
        return (500, 0.0) if failing else (200, 0.0)

    delivery = DeliveryConfig(
        max_attempts=2,
        backoff=BackoffConfig(initial_s=0.05, jitter=0),
        breaker=BreakerConfig(threshold=5, cooldown_s=0.5),  # six failures open it
        poll_s=0.1,
    )
    with Receiver(down_then_up) as receiver:
        action = HttpPost("erp", receiver.url)
        async with Dispatcher(store, {"erp": action}, delivery) as dispatcher:
            ids = [store.record(make_event(), ["erp"]).id for _ in range(3)]
            delivered = store.record(make_event(), [])  # nothing to deliver: not replayed
            assert await dispatcher.wait_delivered(timeout=20) == 0
            assert {d.state for i in ids for d in store.deliveries(i)} == {"dead"}
            failing = False
            done = await asyncio.to_thread(
                subprocess.run,
                [*SIGHTWIRE, "events", "replay", "--dead", "--config", str(config), "--json"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout) == {"requeued": 3}
            await asyncio.to_thread(
                receiver.wait_for, lambda hits: sum(h.status == 200 for h in hits) >= 3, 20
            )
            assert await dispatcher.wait_delivered(timeout=20) == 0
        await action.close()
    assert sorted(receiver.delivered_ids()) == sorted(ids)
    assert delivered.id not in receiver.delivered_ids()
    for i in ids:
        (d,) = store.deliveries(i)
        assert (d.state, d.replays, d.attempts) == ("delivered", 1, 1)
        assert [a.status_code for a in d.log] == [500, 500, 200]
    # a replayed delivery's latency is not capture-to-action
    assert store.metrics.registry.get_sample_value(
        "sightwire_capture_to_action_seconds_count", {"destination": "erp"}
    ) in (None, 0.0)


def test_replay_by_id_and_by_time(store: EventStore, config: Path) -> None:
    early = store.record(make_event(at=T0), ["erp", "wms"])
    late = store.record(make_event(at=T0 + 3600), ["erp"])
    with store.db.write() as conn:
        conn.exec_driver_sql("UPDATE deliveries SET state = 'delivered'")
    by_id = json.loads(_cli("events", "replay", early.id, "-c", str(config), "--json"))
    assert by_id == {"requeued": 2}
    assert json.loads(_cli("events", "replay", early.id, "-c", str(config), "--json")) == {
        "requeued": 0
    }  # pending ones are queued already
    since = "2027-01-15T08:30:00+00:00"  # between the two events (08:00, 09:00 UTC)
    assert _cli("events", "replay", "--since", since, "-c", str(config)).strip() == (
        "re-queued 1 delivery"
    )
    assert [d.state for d in store.deliveries(late.id)] == ["pending"]
    assert _cli("events", "replay", "--dead", "-c", str(config)).strip() == "re-queued 0 deliveries"
