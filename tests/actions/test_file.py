"""File action: one CloudEvent per line, appended; rotation by size."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.formats.json import JSONFormat

from sightwire.actions.file import FileAction
from sightwire.config.actions import FileConfig

from .conftest import make_event

pytestmark = pytest.mark.anyio


def file_action(path: Path, **config: Any) -> FileAction:
    return FileAction(
        "audit", FileConfig.model_validate({"type": "file", "path": str(path), **config})
    )


@pytest.mark.parametrize("fsync", [False, True])
async def test_lines_are_appended_and_each_is_a_cloudevent(tmp_path: Path, fsync: bool) -> None:
    path = tmp_path / "new" / "folder" / "events.jsonl"
    events = [make_event(n=i) for i in range(3)]
    first, second = file_action(path, fsync=fsync), file_action(path, fsync=fsync)
    for action in (first, second, first):
        assert (await action.send(events.pop(0) if events else make_event())).ok
    lines = path.read_bytes().splitlines()
    assert len(lines) == 3
    parsed = [JSONFormat().read(None, line) for line in lines]
    assert [p.get_data()["attributes"]["n"] for p in parsed] == [0, 1, 2]
    assert all(p.get_type() == "com.sightwire.parcel.mismatch" for p in parsed)


async def test_concurrent_sends_give_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    action = file_action(path)
    big = "x" * 100_000
    results = await asyncio.gather(*(action.send(make_event(n=i, blob=big)) for i in range(20)))
    assert all(r.ok for r in results)
    numbers = sorted(
        json.loads(line)["data"]["attributes"]["n"] for line in path.read_text().splitlines()
    )
    assert numbers == list(range(20))


async def test_rotates_by_size_and_keeps_the_newest_files(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    line_bytes = len((await _one_line(tmp_path)).encode())
    action = file_action(path, rotate_mb=(2.5 * line_bytes) / 1024 / 1024, keep=2)
    for i in range(7):
        assert (await action.send(make_event(n=i))).ok

    def numbers(p: Path) -> list[int]:
        return [json.loads(line)["data"]["attributes"]["n"] for line in p.read_text().splitlines()]

    assert numbers(path) == [6]
    assert numbers(path.with_name("events.jsonl.1")) == [4, 5]
    assert numbers(path.with_name("events.jsonl.2")) == [2, 3]
    assert not path.with_name("events.jsonl.3").exists()


async def test_a_folder_in_the_way_is_final(tmp_path: Path) -> None:
    result = await file_action(tmp_path).send(make_event())
    assert not result.ok and not result.retryable and str(tmp_path) in result.detail


async def _one_line(tmp_path: Path) -> str:
    probe = tmp_path / "probe.jsonl"
    await file_action(probe).send(make_event(n=0))
    return probe.read_text()
