"""A worker paused mid-stream past its lease (SIGSTOP: a starved or suspended host)
loses its cameras to the other worker and gets them back when it runs again. Each
camera moves twice, and the events are still those of embedded mode, each once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.roles.conftest import Reference
from tests.roles.harness import (
    Role,
    assert_as_embedded,
    delivered,
    roles,
    stored_events,
    wait_for,
    write_site,
)
from tests.roles.test_equivalence import TRANSPORTS, all_done, bus_url, settled
from tests.storage.databases import postgres_schema

pytestmark = pytest.mark.service
# Short leases, so the pause costs seconds; ack_wait <= member_ttl (docs/distributed.md).
LEASE_S = 3


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_paused_worker_gives_its_cameras_up_and_back_without_doubles(
    transport: str, request: pytest.FixtureRequest, tmp_path: Path, clip: Path,
    reference: Reference,
) -> None:  # fmt: skip
    bus = bus_url(transport, request, f"partitions=4&ack_wait_s={LEASE_S}&member_ttl_s={LEASE_S}")
    with postgres_schema() as database:
        config = write_site(tmp_path, clip, database=database, bus=bus, realtime=True)
        paused, other = (Role("worker", config, "--member", f"w-{n}") for n in (1, 2))
        with roles(paused, other, Role("dispatch", config)) as started:
            wait_for(lambda: all(r.ready() for r in started), 90, "every role to be ready")
            wait_for(lambda: settled((paused, other), 4), 60, "the workers to share")
            with roles(Role("ingest", config, "--until-end")) as (ingest,):
                wait_for(lambda: paused.stats().get("frames", 0) >= 8, 60, "the paused's frames")
                mine = set(paused.stats()["last_seq"])
                paused.pause()
                try:
                    wait_for(lambda: owns_all_and_works_on(other, mine), 30, "the take-over")
                finally:
                    paused.resume()
                wait_for(lambda: settled((paused, other), 4), 30, "the cameras to come back")
                assert ingest.wait(90) == 0, ingest.log()
            wait_for(lambda: all_done((paused, other), reference.last_seq), 120, "every frame")
            events = stored_events(database)
            wait_for(lambda: len(delivered(tmp_path)) >= len(events), 60, "every delivery")
            back = paused.stats()["last_seq"]
    # The paused worker finished its cameras: they came back to it mid-stream.
    assert all(back.get(camera) == reference.last_seq[camera] for camera in mine)
    assert_as_embedded(events, reference.projection, tmp_path)


def owns_all_and_works_on(worker: Role, cameras: set[str]) -> bool:
    """``worker`` owns every partition and has done frames of ``cameras``."""
    stats = worker.stats()
    return sorted(stats.get("partitions", [])) == [0, 1, 2, 3] and cameras <= set(
        stats.get("last_seq", {})
    )
