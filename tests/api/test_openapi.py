"""The OpenAPI spec: valid, and the API keeps to it (schemathesis, signed in as admin)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sightwire.api import create_app
from tests.api.site import build_site

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 12  # per operation: about 25 operations stay well under a minute


def test_the_spec_is_valid_openapi(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    validate(spec)
    assert spec["components"]["securitySchemes"].keys() == {"bearer", "apiKey"}
    paths = spec["paths"]
    for path in ("/api/v1/events", "/api/v1/cameras/{camera}/frames", "/api/v1/events/stream"):
        assert path in paths
    problem = paths["/api/v1/events/{event_id}"]["get"]["responses"]["404"]["content"]
    assert "application/problem+json" in problem


def test_the_docs_page_is_served(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()


@pytest.fixture
def api_schema(tmp_path: Path) -> tuple[schemathesis.BaseSchema, dict[str, str]]:
    site = build_site(tmp_path, models=True)
    app = create_app(site.ctx)
    # The two endless streams (SSE, MJPEG) are tested against a live server instead.
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    return schema.exclude(path_regex=r"/stream$"), site.headers("admin")


def test_the_api_keeps_to_its_spec(
    api_schema: tuple[schemathesis.BaseSchema, dict[str, str]],
) -> None:
    # One hypothesis run per operation, by hand: schemathesis' pytest plugin does not
    # work with pytest 9 yet (it reads a node attribute pytest removed).
    schema, admin = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def keeps_to_spec(case: Case) -> None:
            case.call_and_validate(headers=dict(admin), checks=CHECKS)

        keeps_to_spec()


def test_fuzzing_left_the_database_usable(tmp_path: Path) -> None:
    # A fresh site, so this needs no order among tests: the spec matches the app.
    site = build_site(tmp_path)
    client = TestClient(create_app(site.ctx))
    assert client.get("/readyz").json()["database"] is True
