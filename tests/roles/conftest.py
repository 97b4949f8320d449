"""Shared by the role tests: the clip, its embedded-mode reference, the brokers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.bus.servers import nats_url, redis_url, tansu
from tests.roles.harness import Projection, embedded_run, projection, write_clip, write_site


@dataclass(frozen=True)
class Reference:
    """What embedded mode makes of the site: the events' projection, the last frames."""

    projection: Projection
    seqs: dict[str, list[int]]  # each camera's frames, in order

    @property
    def last_seq(self) -> dict[str, int]:
        return {camera: seqs[-1] for camera, seqs in self.seqs.items()}


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="session")
def reference(clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    folder = tmp_path_factory.mktemp("embedded")
    config = write_site(folder, clip, database=f"sqlite:///{folder / 'events.db'}")
    events, seqs = embedded_run(config)
    assert events, "the reference run made no events: the scene or the model changed"
    return Reference(projection(events), seqs)


@pytest.fixture(scope="session")
def kafka_servers() -> Iterator[str]:
    with tansu() as servers:
        yield servers


@pytest.fixture(scope="session")
def nats() -> str:
    return nats_url()


@pytest.fixture(scope="session")
def redis() -> str:
    return redis_url()
