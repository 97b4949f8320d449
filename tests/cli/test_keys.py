"""``sightwire keys create|list|revoke`` on a real database."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sightwire.cli import app
from sightwire.security.audit import AuditTrail
from sightwire.security.keys import ApiKeyStore
from sightwire.security.principal import AuthError, Role
from sightwire.storage.database import open_database


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(
        f"version: 1\nstore:\n  database: sqlite:///{tmp_path / 'db' / 'sightwire.db'}\n"
        f"  blobs: file://{tmp_path / 'blobs'}\n"
    )
    return path


def _cli(*args: str, code: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout, result.stderr


def _db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'sightwire.db'}"


def test_create_prints_a_working_secret_once(config: Path, tmp_path: Path) -> None:
    out, err = _cli(
        "keys",
        "create",
        str(config),
        "--name",
        "erp",
        "--role",
        "operator",
        "--camera",
        "belt-1",
        "--camera",
        "dock-2",
        "--expires-in-days",
        "30",
    )
    secret = out.strip()
    assert secret.startswith("sw_") and "\n" not in secret
    assert "erp" in err and "operator" in err and "belt-1, dock-2" in err
    db = open_database(_db(tmp_path))
    who = ApiKeyStore(db).authenticate(secret)
    assert who.role is Role.OPERATOR and who.cameras == frozenset({"belt-1", "dock-2"})
    listed, _ = _cli("keys", "list", str(config))
    assert "erp" in listed and secret not in listed
    entry = AuditTrail(db).entries()[0]
    assert (entry.actor, entry.action) == (f"cli:{getpass.getuser()}", "key.create")
    db.close()


def test_json_list_and_revoke(config: Path, tmp_path: Path) -> None:
    created = json.loads(
        _cli("keys", "create", str(config), "-n", "wms", "-r", "admin", "--json")[0]
    )
    assert created["role"] == "admin" and created["cameras"] is None
    listed = json.loads(_cli("keys", "list", str(config), "--json")[0])
    assert [k["id"] for k in listed] == [created["id"]] and listed[0]["active"]
    assert "secret" not in listed[0]
    out, _ = _cli("keys", "revoke", str(config), created["id"])
    assert created["id"] in out
    db = open_database(_db(tmp_path))
    with pytest.raises(AuthError, match="revoked"):
        ApiKeyStore(db).authenticate(created["secret"])
    actions = [e.action for e in AuditTrail(db).entries()]
    assert actions == ["key.create", "key.revoke"]
    db.close()
    listed = json.loads(_cli("keys", "list", str(config), "--json")[0])
    assert listed[0]["active"] is False and listed[0]["revoked_by"].startswith("cli:")


def test_mistakes_exit_1_with_a_reason(config: Path, tmp_path: Path) -> None:
    _, err = _cli("keys", "revoke", str(config), "01JD5Z3YV8N6Q2W8B1C4F7H9KM", code=1)
    assert "no API key" in err
    _cli("keys", "create", str(config), "-n", "x", "-r", "root", code=2)  # not a role
    _, err = _cli("keys", "list", str(tmp_path / "missing.yaml"), code=1)
    assert "missing.yaml" in err
