"""/metrics as Prometheus itself reads it: ``promtool check metrics`` (Debian's prometheus)."""

from __future__ import annotations

import shutil
import subprocess

from fastapi.testclient import TestClient

from sightwire.events.metrics import default_metrics
from tests.api.site import Site
from tests.service import require_service


def test_promtool_accepts_the_metrics_page(client: TestClient, site: Site) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        require_service("promtool not installed (Debian package prometheus)")
    metrics = default_metrics()  # series with samples, not only empty ones
    metrics.emitted("com.sightwire.parcel.mismatch", "belt-1", 0.012)
    metrics.delivered("erp", 0.042)
    metrics.failed("erp", dead=True)
    page = client.get("/metrics", headers=site.headers("viewer"))
    assert page.status_code == 200
    assert "sightwire_capture_to_action_seconds_bucket" in page.text
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=page.content, capture_output=True, timeout=30
    )
    problems = (checked.stdout + checked.stderr).decode()
    assert checked.returncode == 0, problems
    assert problems.strip() == "", problems  # lint findings (names, units, help) count too
