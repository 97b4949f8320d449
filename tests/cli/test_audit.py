"""``sightwire audit verify|head|export`` on a real database."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from sightwire.cli import app
from sightwire.security.audit import AuditTrail
from sightwire.security.tables import audit_log
from sightwire.storage.database import Database, open_database


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(f"version: 1\nstore:\n  database: sqlite:///{tmp_path / 'sightwire.db'}\n")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'sightwire.db'}", migrate=True)
    trail = AuditTrail(database)
    for n in range(1, 6):
        trail.record("key:k1", "event.read", f"event-{n}", {"n": n})
    yield database
    database.close()


def _cli(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def test_verify_a_clean_trail(config: Path, db: Database) -> None:
    assert "intact: 5 entries" in _cli("audit", "verify", str(config))
    report = json.loads(_cli("audit", "verify", str(config), "--json"))
    assert report["ok"] is True and report["head"]["seq"] == 5


def test_verify_names_each_problem_and_exits_1(config: Path, db: Database) -> None:
    anchor = _cli("audit", "head", str(config)).strip()
    with db.write() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="key:k9"))
        conn.execute(audit_log.delete().where(audit_log.c.seq == 5))
    out = _cli("audit", "verify", str(config), "--anchor", anchor, code=1)
    assert "seq 2: edited" in out and "seq 5: truncated" in out and "seq 5: head" in out
    report = json.loads(_cli("audit", "verify", str(config), "--json", code=1))
    assert [(p["seq"], p["kind"]) for p in report["problems"]] == [(2, "edited"), (5, "truncated")]
    _cli("audit", "verify", str(config), "--anchor", "nonsense", code=2)


def test_export_jsonl_and_csv(config: Path, db: Database, tmp_path: Path) -> None:
    lines = _cli("audit", "export", str(config)).splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[1]["detail"] == {"n": 2} and rows[1]["prev_hash"] == rows[0]["hash"]
    target = tmp_path / "audit.csv"
    _cli("audit", "export", str(config), "--format", "csv", "-o", str(target))
    table = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["hash"] for r in table] == [r["hash"] for r in rows]
    assert table[0]["detail"] == '{"n":1}'
    assert _cli("audit", "export", str(config), "--since", "2000-01-01T00:00Z").count("\n") == 5
    assert _cli("audit", "export", str(config), "--since", "2999-01-01T00:00Z") == ""
    _cli("audit", "export", str(config), "--format", "xml", code=2)
