"""The Helm chart renders, its objects are valid Kubernetes and KEDA objects, and they
agree with each other (names, ports, secrets, labels, the bus switch)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy.chart import (
    CHART,
    RELEASE,
    ROLES,
    VARIANTS,
    Obj,
    chart_values,
    containers,
    fullname,
    is_hook,
    merged,
    named,
    of_kind,
    pod_specs,
    render,
    render_files,
)

# The oldest Kubernetes the chart declares (Chart.yaml kubeVersion) and the newest whose
# schemas kubernetes-validate bundles: the two ends of the range the chart supports.
K8S_VERSIONS = ("1.27.0", kubernetes_validate.latest_version())
# Kinds that come from CRDs: the ScaledObject is checked against KEDA's schema below; no
# schema of the Prometheus Operator's ServiceMonitor is at hand, so only its selector is.
CRD_KINDS = {"ScaledObject", "ServiceMonitor"}


@pytest.fixture(params=sorted(VARIANTS))
def variant(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def objects(variant: str) -> list[Obj]:
    return render(VARIANTS[variant])


def test_every_role_has_one_deployment_running_its_command(objects: list[Obj]) -> None:
    for role in ROLES:
        deployment = named(objects, "Deployment", f"{fullname()}-{role}")
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        # The image's entrypoint is `sightwire`: the role and the mounted config follow.
        assert container["args"][:2] == [role, "/etc/sightwire/sightwire.yaml"]
        assert deployment["metadata"]["labels"]["app.kubernetes.io/component"] == role
    serve = named(objects, "Deployment", f"{fullname()}-serve")
    assert "--no-pipelines" in serve["spec"]["template"]["spec"]["containers"][0]["args"]
    assert len(of_kind(objects, "Deployment")) == len(ROLES)


@pytest.mark.parametrize("k8s", K8S_VERSIONS)
def test_core_objects_are_valid_kubernetes(objects: list[Obj], k8s: str) -> None:
    # strict: an unknown field (a typo, a field at the wrong level) is an error, as it is
    # for `kubectl apply --validate=strict`.
    core = [o for o in objects if o["kind"] not in CRD_KINDS]
    assert core
    for o in core:
        try:
            kubernetes_validate.validate(o, k8s, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{o['kind']}/{o['metadata']['name']} (Kubernetes {k8s}): {exc.message}")


KEDA_SCHEMA = json.loads(
    (Path(__file__).with_name("keda") / "scaledobject.schema.json").read_text()
)


def validate_scaled_object(o: Obj) -> None:
    """Check ``o`` against KEDA's ScaledObject schema (``keda/generate.py`` says whence)."""
    jsonschema.Draft202012Validator(KEDA_SCHEMA).validate(o)


def test_scaled_object_is_valid_keda(objects: list[Obj]) -> None:
    (scaled,) = of_kind(objects, "ScaledObject")
    validate_scaled_object(scaled)


def test_keda_check_refuses_what_keda_would() -> None:
    # The KEDA check itself must fail on bad objects, or the test above proves nothing.
    (good,) = of_kind(render(VARIANTS["nats"]), "ScaledObject")
    validate_scaled_object(good)
    typo = yaml.safe_load(yaml.safe_dump(good))
    typo["spec"]["minReplicas"] = 1  # the HPA's name, not KEDA's minReplicaCount
    with pytest.raises(jsonschema.ValidationError, match="minReplicas"):
        validate_scaled_object(typo)
    number = yaml.safe_load(yaml.safe_dump(good))
    number["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 50  # metadata is strings
    with pytest.raises(jsonschema.ValidationError):
        validate_scaled_object(number)
    no_target = yaml.safe_load(yaml.safe_dump(good))
    del no_target["spec"]["scaleTargetRef"]
    with pytest.raises(jsonschema.ValidationError):
        validate_scaled_object(no_target)


def test_scaled_object_targets_the_worker_deployment(objects: list[Obj]) -> None:
    (scaled,) = of_kind(objects, "ScaledObject")
    target = scaled["spec"]["scaleTargetRef"]
    worker = named(objects, "Deployment", target["name"])
    assert worker["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    assert (target["apiVersion"], target["kind"]) == (worker["apiVersion"], worker["kind"])
    # KEDA's HPA owns the replica count; a replicas field would fight it on every upgrade.
    assert "replicas" not in worker["spec"]
    spec = scaled["spec"]
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]


def test_nats_switch_reads_the_lag_of_every_partition_consumer() -> None:
    values = merged(VARIANTS["nats"])
    bus = values["bus"]
    (scaled,) = of_kind(render(VARIANTS["nats"]), "ScaledObject")
    triggers = scaled["spec"]["triggers"]
    assert {t["type"] for t in triggers} == {"nats-jetstream"}
    # The NATS transport's layout (src/sightwire/bus/nats.py): stream <prefix>-<stream>,
    # one durable consumer <group>-p<partition> per partition.
    assert {t["metadata"]["stream"] for t in triggers} == {f"{bus['prefix']}-{bus['stream']}"}
    consumers = sorted(t["metadata"]["consumer"] for t in triggers)
    assert consumers == sorted(f"{bus['group']}-p{p}" for p in range(bus["partitions"]))
    for t in triggers:
        assert t["metadata"]["lagThreshold"] == str(values["autoscaling"]["lagThreshold"])


def test_kafka_switch_reads_the_worker_group_lag_on_the_frames_topic() -> None:
    values = merged(VARIANTS["kafka"])
    bus = values["bus"]
    (scaled,) = of_kind(render(VARIANTS["kafka"]), "ScaledObject")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    # The Kafka transport's topic is <prefix>.<stream> (src/sightwire/bus/kafka.py).
    assert meta["topic"] == f"{bus['prefix']}.{bus['stream']}"
    assert meta["consumerGroup"] == bus["group"]
    assert meta["bootstrapServers"] == bus["kafka"]["bootstrapServers"]
    assert meta["lagThreshold"] == str(values["autoscaling"]["lagThreshold"])


@pytest.mark.parametrize(("kind", "scheme"), [("nats", "nats://"), ("kafka", "kafka://")])
def test_every_pod_gets_the_bus_the_switch_names(kind: str, scheme: str) -> None:
    objects = render({"bus": {"kind": kind}})
    for where, pod in pod_specs(objects):
        for c in containers(pod):
            env = {e["name"]: e for e in c["env"]}
            assert env["SIGHTWIRE_BUS_URL"]["value"].startswith(scheme), where


def test_every_secret_and_config_reference_exists(objects: list[Obj], variant: str) -> None:
    values = merged(VARIANTS[variant])
    secrets = {o["metadata"]["name"]: o for o in of_kind(objects, "Secret")}
    configmaps = {o["metadata"]["name"]: o for o in of_kind(objects, "ConfigMap")}
    if values["secret"]["create"]:
        available = {
            n: set(s.get("stringData", {})) | set(s.get("data", {})) for n, s in secrets.items()
        }
    else:
        # The platform team creates this Secret: docs/deploy.md lists the keys of secret.env.
        assert not secrets
        available = {values["secret"]["existingSecret"]: set(values["secret"]["env"].values())}
    for where, pod in pod_specs(objects):
        for c in containers(pod):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref is not None:
                    assert ref["name"] in available, f"{where}: no Secret {ref['name']}"
                    assert ref["key"] in available[ref["name"]], f"{where}: {ref} is missing"
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                name = volume["configMap"]["name"]
                assert name in configmaps, f"{where}: no ConfigMap {name}"
                assert "sightwire.yaml" in configmaps[name]["data"]


def test_the_config_needs_only_variables_the_pods_have(objects: list[Obj]) -> None:
    # The config is read with ${VAR} filled from the environment; a variable no pod sets
    # stops every role at start.
    for where, pod in pod_specs(objects):
        (volume,) = [v for v in pod["volumes"] if v["name"] == "config"]
        cm = named(objects, "ConfigMap", volume["configMap"]["name"])
        needed = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", cm["data"]["sightwire.yaml"]))
        for c in pod["containers"]:
            assert needed <= {e["name"] for e in c["env"]}, f"{where}: {needed}"


def test_the_migration_job_reads_the_same_config_as_the_roles(objects: list[Obj]) -> None:
    job = named(objects, "Job", f"{fullname()}-migrate")
    assert is_hook(job)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["db", "upgrade", "--config", "/etc/sightwire/sightwire.yaml"]
    own = named(objects, "ConfigMap", f"{fullname()}-migrate")
    roles = named(objects, "ConfigMap", fullname())
    assert own["data"] == roles["data"]
    # A hook runs before the release's objects exist: what it reads must be a hook too,
    # weighted before it.
    assert is_hook(own)
    weight = int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert int(own["metadata"]["annotations"]["helm.sh/hook-weight"]) < weight
    for secret in of_kind(objects, "Secret"):
        assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < weight


def test_probes_point_at_ports_the_container_opens(objects: list[Obj], variant: str) -> None:
    values = merged(VARIANTS[variant])
    for where, pod in pod_specs(objects):
        for c in containers(pod):
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe not in c:
                    continue
                port = c[probe]["httpGet"]["port"]
                assert port in ports or port in ports.values(), f"{where} {probe}: {port}"
    serve = named(objects, "Deployment", f"{fullname()}-serve")
    (c,) = serve["spec"]["template"]["spec"]["containers"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    # serve listens where the probes look, whatever the config's api.port says.
    assert f"--port={c['ports'][0]['containerPort']}" in c["args"]
    assert c["ports"][0]["containerPort"] == values["roles"]["serve"]["port"]


def test_services_select_pods_and_ports_that_exist(objects: list[Obj]) -> None:
    pods = [
        (d["spec"]["template"]["metadata"]["labels"], d["spec"]["template"]["spec"])
        for d in of_kind(objects, "Deployment")
    ]
    for service in of_kind(objects, "Service"):
        selector = service["spec"]["selector"]
        chosen = [spec for labels, spec in pods if selector.items() <= labels.items()]
        with_port = [
            spec
            for spec in chosen
            for c in spec["containers"]
            for port in service["spec"]["ports"]
            if port["targetPort"] in {p["name"] for p in c.get("ports", [])}
        ]
        assert with_port, f"Service/{service['metadata']['name']} reaches no pod's port"
    api = named(objects, "Service", fullname())
    assert api["spec"]["selector"]["app.kubernetes.io/component"] == "serve"


def test_the_disruption_budget_covers_the_workers(objects: list[Obj]) -> None:
    (pdb,) = of_kind(objects, "PodDisruptionBudget")
    worker = named(objects, "Deployment", f"{fullname()}-worker")
    labels = worker["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert worker["spec"]["selector"]["matchLabels"] == pdb["spec"]["selector"]["matchLabels"]


def test_service_monitor_scrapes_the_metrics_service() -> None:
    objects = render(VARIANTS["nats-everything"])
    (monitor,) = of_kind(objects, "ServiceMonitor")
    metrics = named(objects, "Service", f"{fullname()}-metrics")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= metrics["metadata"]["labels"].items()
    )
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= {
        p["name"] for p in metrics["spec"]["ports"]
    }
    assert not of_kind(render(VARIANTS["nats"]), "ServiceMonitor")  # off by default: a CRD


def test_one_image_everywhere_tagged_with_the_app_version() -> None:
    app_version = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
    repository = chart_values()["image"]["repository"]
    for overrides, tag in [({}, app_version), ({"image": {"tag": "1.2.3"}}, "1.2.3")]:
        objects = render(overrides)
        images = {c["image"] for _, pod in pod_specs(objects) for c in containers(pod)}
        assert images == {f"{repository}:{tag}"}


def test_containers_are_locked_down_and_sized(objects: list[Obj]) -> None:
    for where, pod in pod_specs(objects):
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["runAsUser"] != 0, where
        assert pod["automountServiceAccountToken"] is False, where
        for c in containers(pod):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"]["drop"] == ["ALL"], where
            limits = c["resources"]["limits"]
            assert {"cpu", "memory"} <= set(limits), where
            # A read-only root needs a writable /tmp (HOME points there).
            assert "/tmp" in {m["mountPath"] for m in c["volumeMounts"]}, where
    worker = named(objects, "Deployment", f"{fullname()}-worker")
    (c,) = worker["spec"]["template"]["spec"]["containers"]
    # ONNX Runtime's threads = the CPU limit: a request below it would share those CPUs.
    assert c["resources"]["requests"]["cpu"] == c["resources"]["limits"]["cpu"]
    cpu_env = {e["name"]: e for e in c["env"]}["SIGHTWIRE_CPU_LIMIT"]
    assert cpu_env["valueFrom"]["resourceFieldRef"]["resource"] == "limits.cpu"


def test_release_objects_have_distinct_names(objects: list[Obj]) -> None:
    keys = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(keys) == len(set(keys))
    assert all(o["metadata"]["name"].startswith(RELEASE) for o in objects)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"bus": {"kind": "rabbitmq"}}, "kind"),
        ({"autoscaling": {"maxReplicas": 64}}, "partitions"),
        ({"secret": {"existingSecret": "", "create": False}}, "existingSecret"),
        ({"roles": {"serve": {"port": "http"}}}, "port"),
    ],
)
def test_bad_values_are_refused_at_render(values: dict[str, Any], message: str) -> None:
    import helm_python as helm  # see chart.py: Helm's runtime only when these tests run

    with pytest.raises(helm.HelmError, match=message):
        render_files(values)


def test_chart_passes_helm_lint() -> None:
    import helm_python as helm

    result = helm.lint(str(CHART))
    # Helm's severities: 1 info ("icon is recommended"), 2 warning, 4 error.
    assert result["errors"] == [], result
    assert [m for m in result["messages"] if m["severity"] >= 2] == [], result


def test_notes_render() -> None:
    notes = render_files({})["sightwire/templates/NOTES.txt"]
    assert "KEDA scales them" in notes and chart_values()["bus"]["kind"] in notes


def test_every_volume_mount_names_a_volume_of_its_pod(objects: list[Obj]) -> None:
    # The schemas cannot see this; the API server refuses such a pod at admission.
    for where, pod in pod_specs(objects):
        volumes = {v["name"] for v in pod.get("volumes", [])}
        for c in containers(pod):
            for mount in c.get("volumeMounts", []):
                assert mount["name"] in volumes, f"{where}: mounts missing volume {mount['name']}"


def test_without_keda_the_workers_keep_a_fixed_count() -> None:
    objects = render({"autoscaling": {"enabled": False}, "roles": {"worker": {"replicas": 3}}})
    assert not of_kind(objects, "ScaledObject")
    worker = named(objects, "Deployment", f"{fullname()}-worker")
    assert worker["spec"]["replicas"] == 3
    for o in objects:
        kubernetes_validate.validate(o, K8S_VERSIONS[-1], strict=True)
