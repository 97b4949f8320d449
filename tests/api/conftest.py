"""Fixtures of the API tests: a site with events and keys, and a client of its app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sightwire.api import create_app
from tests.api.site import Site, build_site


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path)


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.ctx), raise_server_exceptions=False) as test_client:
        yield test_client
