"""Render the Helm chart in ``deploy/helm/sightwire`` with Helm itself, and look things up
in what it renders.

Helm's own Go engine renders it (``helm-python-sdk`` binds Helm's SDK; no ``helm``
binary needed), so what the tests read is what ``helm install`` would send.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "sightwire"
RELEASE = "sw"
NAMESPACE = "vision"
ROLES = ("ingest", "worker", "dispatch", "serve")

Obj = dict[str, Any]

# Values that make every optional object appear (a chart-made Secret, the roles' health
# ports, the ServiceMonitor), so the checks see all of them at least once.
EVERYTHING: dict[str, Any] = {
    "secret": {
        "create": True,
        "data": {
            "database-url": "postgresql+psycopg://sw:pw@pg/sw",
            "erp-hook-secret": "whsec_x",
            "metrics-token": "token",
            "s3-access-key-id": "id",
            "s3-secret-access-key": "key",
        },
    },
    "roles": {
        "ingest": {"health": {"port": 9090}},
        "worker": {"health": {"port": 9090}},
        "dispatch": {"health": {"port": 9090}},
    },
    "metrics": {"serviceMonitor": {"enabled": True}},
    "env": {"AWS_ENDPOINT_URL": "http://minio.storage:9000"},
}

# The value sets every check runs on: each bus switch, and everything switched on.
VARIANTS: dict[str, dict[str, Any]] = {
    "nats": {"bus": {"kind": "nats"}},
    "kafka": {"bus": {"kind": "kafka"}},
    "kafka-everything": {"bus": {"kind": "kafka"}, **EVERYTHING},
    "nats-everything": {"bus": {"kind": "nats"}, **EVERYTHING},
}


def render_files(values: dict[str, Any]) -> dict[str, str]:
    """Template name -> rendered text; Helm errors (schema, ``fail``) propagate."""
    return dict(_render(json.dumps(values, sort_keys=True)))


@cache
def _render(key: str) -> tuple[tuple[str, str], ...]:
    # Cached by the values' JSON: rendering loads Helm's 85 MB library once, then is quick,
    # but most tests render the same few value sets. Imported here, not at module level:
    # collecting the whole suite should not load Helm's Go runtime into the process.
    import helm_python as helm

    with helm.Chart.load(str(CHART)) as chart:
        files = chart.render(json.loads(key), name=RELEASE, namespace=NAMESPACE)
    return tuple(sorted(files.items()))


def render(values: dict[str, Any]) -> list[Obj]:
    """Every object the chart renders with ``values``, parsed."""
    objects: list[Obj] = []
    for name, text in render_files(values).items():
        if not name.endswith((".yaml", ".yml")):
            continue  # NOTES.txt
        for doc in yaml.safe_load_all(text):
            if doc is not None:
                assert isinstance(doc, dict), f"{name}: a document that is not a mapping"
                objects.append(doc)
    return copy.deepcopy(objects)


def chart_values() -> dict[str, Any]:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert isinstance(values, dict)
    return values


def merged(overrides: dict[str, Any]) -> dict[str, Any]:
    """The chart's values with ``overrides`` merged in, as Helm merges them."""

    def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for key, value in top.items():
            both_maps = isinstance(value, dict) and isinstance(out.get(key), dict)
            out[key] = merge(out[key], value) if both_maps else value
        return out

    return merge(chart_values(), overrides)


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[Obj], kind: str, name: str) -> Obj:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]


def fullname() -> str:
    return f"{RELEASE}-sightwire"


def pod_specs(objects: list[Obj]) -> Iterator[tuple[str, Obj]]:
    """(kind/name, pod spec) of every object that makes pods."""
    for o in objects:
        if o["kind"] in ("Deployment", "Job"):
            yield f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"]


def containers(pod: Obj) -> list[Obj]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def is_hook(o: Obj) -> bool:
    return "helm.sh/hook" in o["metadata"].get("annotations", {})
