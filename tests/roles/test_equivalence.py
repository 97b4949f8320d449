"""An ingest, two workers and a dispatcher, as separate processes over a real broker,
make the same events as embedded mode on the same clip, each exactly once."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from sightwire.bus.partitioning import partition_of
from tests.roles.conftest import Reference
from tests.roles.harness import (
    CAMERAS,
    Role,
    assert_as_embedded,
    delivered,
    roles,
    stored_events,
    wait_for,
    write_site,
)
from tests.storage.databases import postgres_schema

pytestmark = pytest.mark.service
TRANSPORTS = ["nats", "kafka", "redis"]
# Leases long enough that a worker starved of CPU on a loaded machine mostly keeps its
# lease: a lapsed one is safe (test_worker_pause.py) but costs a hand-over's time.
# ack_wait <= member_ttl keeps a hand-over in order (see docs/distributed.md).
OPTIONS = {
    "nats": "partitions=4&ack_wait_s=8&member_ttl_s=10",
    "redis": "partitions=4&ack_wait_s=8&member_ttl_s=10",
    "kafka": "partitions=4&ack_wait_s=10&member_ttl_s=3",  # a broker floor on sessions
}


def bus_url(transport: str, request: pytest.FixtureRequest, options: str = "") -> str:
    """A fresh stream on ``transport``'s test server (its fixture, so a server that
    cannot be reached skips the test, or fails it when services are required)."""
    query = f"{options or OPTIONS[transport]}&prefix=t{uuid.uuid4().hex[:10]}"
    if transport == "kafka":
        return f"kafka://{request.getfixturevalue('kafka_servers')}?{query}"
    return f"{request.getfixturevalue(transport)}?{query}"


def all_done(workers: tuple[Role, ...], last_seq: dict[str, int]) -> bool:
    """Every camera's last frame was processed by one of ``workers``."""
    done: dict[str, int] = {}
    for worker in workers:
        for camera, seq in worker.stats().get("last_seq", {}).items():
            done[camera] = max(done.get(camera, -1), seq)
    return all(done.get(camera, -1) >= seq for camera, seq in last_seq.items())


def settled(workers: tuple[Role, ...], partitions: int) -> bool:
    """Every worker owns partitions, and together all of them, none twice."""
    owned = [set(w.stats().get("partitions", [])) for w in workers]
    return all(owned) and sum(map(len, owned)) == partitions == len(set().union(*owned))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_roles_make_the_embedded_events(
    transport: str, request: pytest.FixtureRequest, tmp_path: Path, clip: Path,
    reference: Reference,
) -> None:  # fmt: skip
    with postgres_schema() as database:
        config = write_site(tmp_path, clip, database=database, bus=bus_url(transport, request))
        workers = tuple(Role("worker", config, "--member", f"w-{n}") for n in (1, 2))
        with roles(*workers, Role("dispatch", config)) as started:
            wait_for(lambda: all(r.ready() for r in started), 90, "every role to be ready")
            wait_for(lambda: settled(workers, 4), 60, "the workers to share the partitions")
            with roles(Role("ingest", config, "--until-end")) as (ingest,):
                assert ingest.wait(90) == 0, ingest.log()
            wait_for(lambda: all_done(workers, reference.last_seq), 120, "every frame processed")
            events = stored_events(database)
            wait_for(lambda: len(delivered(tmp_path)) >= len(events), 60, "every delivery")
            stats = [w.stats() for w in workers]
            pages = [w.get("/metrics")[1] for w in workers]
    assert_as_embedded(events, reference.projection, tmp_path)
    # Each camera ended with the worker owning its partition, and both workers had
    # cameras. (A lease that lapses on a loaded machine may move a camera for a moment,
    # so which worker saw its first frames is not asserted.)
    finished = [
        {c for c, seq in s["last_seq"].items() if seq == reference.last_seq[c]} for s in stats
    ]
    assert all(finished) and sorted(finished[0] | finished[1]) == sorted(CAMERAS)
    assert not finished[0] & finished[1]
    for owned, mine in zip(stats, finished, strict=True):
        assert {partition_of(camera, 4) for camera in mine} <= set(owned["partitions"])
    for worker_stats, page in zip(stats, pages, strict=True):  # every frame done is timed
        done = worker_stats["frames"]
        assert f"sightwire_worker_frame_seconds_count {float(done)}" in page
        assert f"sightwire_worker_lag_seconds_count {float(done)}" in page
