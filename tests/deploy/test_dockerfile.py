"""The Dockerfile cannot be built here (no container engine): read it and check what
the chart and the docs rely on — base image, a non-root user, the entrypoint, the extras."""

from __future__ import annotations

import json
import shlex
import tomllib

import yaml

from tests.deploy.chart import CHART, ROOT

DOCKERFILE = ROOT / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        word, _, rest = logical.partition(" ")
        out.append((word.upper(), rest.strip()))
        logical = ""
    assert not logical, "the Dockerfile ends inside a continued line"
    return out


def final_stage(text: str) -> list[tuple[str, str]]:
    steps = instructions(text)
    starts = [i for i, (word, _) in enumerate(steps) if word == "FROM"]
    assert starts, "no FROM"
    return steps[starts[-1] :]


def test_the_runtime_image_is_python_311_slim() -> None:
    steps = instructions(DOCKERFILE.read_text())
    assert steps[0][0] == "FROM", "a Dockerfile starts with FROM"
    bases = [args.split()[0] for word, args in steps if word == "FROM"]
    assert all(base == "python:3.11-slim" for base in bases), bases


def test_it_runs_as_the_non_root_uid_the_chart_expects() -> None:
    stage = final_stage(DOCKERFILE.read_text())
    users = [args for word, args in stage if word == "USER"]
    assert users, "the runtime stage never leaves root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    # Numeric, so the kubelet can check runAsNonRoot without reading /etc/passwd.
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert int(user) == values["podSecurityContext"]["runAsUser"]
    # USER comes after every RUN: nothing later in the stage runs as root again.
    last_run = max(i for i, (word, _) in enumerate(stage) if word == "RUN")
    last_user = max(i for i, (word, _) in enumerate(stage) if word == "USER")
    assert last_user > last_run


def test_the_entrypoint_is_sightwire_in_exec_form() -> None:
    stage = final_stage(DOCKERFILE.read_text())
    (entrypoint,) = [args for word, args in stage if word == "ENTRYPOINT"]
    # Exec form: sightwire is PID 1 and gets SIGTERM itself (a shell would swallow it).
    assert json.loads(entrypoint) == ["sightwire"]


def test_it_installs_the_distributed_extras_that_exist() -> None:
    text = DOCKERFILE.read_text()
    installs = [args for word, args in instructions(text) if word == "RUN" and "pip" in args]
    wanted = {"postgres", "s3", "nats", "kafka"}
    declared = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    )
    assert wanted <= declared, "the image asks for an extra pyproject.toml does not define"
    seen: set[str] = set()
    for args in installs:
        for word in shlex.split(args):
            if "[" in word and word.endswith("]"):
                seen |= set(word[word.index("[") + 1 : -1].split(","))
    assert wanted <= seen, seen


def test_dockerignore_keeps_the_build_context_small_but_complete() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv"} <= ignored
    # COPY --from=STAGE copies between stages, not from the build context.
    copies = [args.split() for word, args in instructions(DOCKERFILE.read_text()) if word == "COPY"]
    from_context = [parts[:-1] for parts in copies if not parts[0].startswith("--from")]
    sources = {s.rstrip("/") for parts in from_context for s in parts if not s.startswith("--")}
    assert sources, "no COPY from the build context"
    for source in sources:
        assert source.removeprefix("./") not in ignored, f"COPY {source} is in .dockerignore"
        assert (ROOT / source).exists(), f"COPY {source}: no such path"
