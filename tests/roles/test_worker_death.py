"""SIGKILL a worker mid-stream, or stop it (SIGTERM, as a scale-down does): the other
takes its cameras over, no event is lost, and the frames it replays yield no second
event (the store refuses their ids). A stopped worker hands its held frames back."""

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


@pytest.mark.parametrize("ending", ["killed", "stopped"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_gone_workers_cameras_move_without_loss_or_doubles(
    transport: str, ending: str, request: pytest.FixtureRequest, tmp_path: Path,
    clip: Path, reference: Reference,
) -> None:  # fmt: skip
    with postgres_schema() as database:
        config = write_site(tmp_path, clip, database=database, bus=bus_url(transport, request))
        victim, survivor = (Role("worker", config, "--member", f"w-{n}") for n in (1, 2))
        with roles(victim, survivor, Role("dispatch", config)) as started:
            wait_for(lambda: all(r.ready() for r in started), 90, "every role to be ready")
            wait_for(lambda: settled((victim, survivor), 4), 60, "the workers to share")
            with roles(Role("ingest", config, "--until-end")) as (ingest,):
                wait_for(lambda: victim.stats().get("frames", 0) >= 25, 60, "the victim's frames")
                before = victim.stats()["last_seq"]
                if ending == "killed":
                    victim.kill()  # SIGKILL: no goodbye, its unacked frames are left hanging
                else:
                    assert victim.stop() == 0, victim.log()  # SIGTERM: hands frames back
                assert ingest.wait(90) == 0, ingest.log()
            # Mid-stream: the victim had cameras, and had not finished them.
            assert before and any(seq < reference.last_seq[c] for c, seq in before.items())
            wait_for(lambda: all_done((survivor,), reference.last_seq), 120, "the take-over")
            events = stored_events(database)
            wait_for(lambda: len(delivered(tmp_path)) >= len(events), 60, "every delivery")
            stats = survivor.stats()
    assert set(stats["last_seq"]) == set(reference.last_seq)  # every camera is the survivor's
    assert sorted(stats["partitions"]) == [0, 1, 2, 3]
    assert_as_embedded(events, reference.projection, tmp_path)
