"""The config the chart mounts is one the roles load, with the environment the chart
gives each pod, and it names the bus that the KEDA triggers watch."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from sightwire.bus.registry import parse_options
from sightwire.config import load_config
from tests.deploy.chart import VARIANTS, Obj, fullname, merged, named, pod_specs, render


def pod_environment(container: Obj) -> dict[str, str]:
    """The container's environment: literal values, and for each reference (a Secret's
    key, the CPU limit) a value of the form the operator is told to put there."""
    env: dict[str, str] = {}
    for item in container["env"]:
        name = item["name"]
        source = item.get("valueFrom", {})
        if "value" in item:
            env[name] = str(item["value"])
        elif "resourceFieldRef" in source:
            env[name] = "2"  # limits.cpu with divisor 1: whole CPUs, rounded up
        elif "DATABASE" in name:
            env[name] = "postgresql+psycopg://sw:pw@pg:5432/sw"
        elif name.endswith("HOOK_SECRET"):
            env[name] = "whsec_" + base64.b64encode(bytes(range(32))).decode()
        else:
            env[name] = "stand-in"
    return env


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_pod_loads_the_chart_config(variant: str, tmp_path: Path) -> None:
    objects = render(VARIANTS[variant])
    values = merged(VARIANTS[variant])
    for where, pod in pod_specs(objects):
        (volume,) = [v for v in pod["volumes"] if v["name"] == "config"]
        config_map = named(objects, "ConfigMap", volume["configMap"]["name"])
        path = tmp_path / "sightwire.yaml"
        path.write_text(config_map["data"]["sightwire.yaml"])
        for container in pod["containers"]:
            env = pod_environment(container)
            config = load_config(path, environ=env)
            assert config.bus.url == env["SIGHTWIRE_BUS_URL"], where
            # KEDA reads the lag of this stream and group: the roles must use them.
            assert config.bus.stream == values["bus"]["stream"], where
            assert config.bus.group == values["bus"]["group"], where
            assert config.bus.buffer.path.startswith("/var/lib/sightwire/"), where
            options = parse_options(config.bus.bus_url().partition("?")[2])
            if values["bus"]["kind"] == "nats":  # a hand-over keeps frames in order
                assert options.ack_wait_s <= options.member_ttl_s, where


def test_roles_with_a_health_port_are_told_it() -> None:
    objects = render(VARIANTS["nats-everything"])
    for role in ("ingest", "worker", "dispatch"):
        deployment = named(objects, "Deployment", f"{fullname()}-{role}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        (port,) = container["ports"]
        assert f"--health-port={port['containerPort']}" in container["args"], role
    plain = named(render(VARIANTS["nats"]), "Deployment", f"{fullname()}-worker")
    assert not any(
        a.startswith("--health") for a in plain["spec"]["template"]["spec"]["containers"][0]["args"]
    )
