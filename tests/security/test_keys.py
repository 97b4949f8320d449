"""API keys: issued once, stored hashed, scoped, revoked and expired."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from sightwire.security.audit import AuditTrail
from sightwire.security.keys import ApiKeyStore
from sightwire.security.principal import AuthError, Role
from sightwire.security.tables import api_keys
from sightwire.storage.database import Database, open_database


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_key_authenticates_as_its_role_and_cameras(db: Database) -> None:
    keys = ApiKeyStore(db)
    issued = keys.create("wms", Role.OPERATOR, frozenset({"belt-1", "dock-2"}), "cli:ana")
    assert issued.secret.startswith(f"sw_{issued.id}_")
    who = keys.authenticate(issued.secret)
    assert who.subject == f"key:{issued.id}"
    assert who.role is Role.OPERATOR and who.method == "api_key"
    assert who.cameras == frozenset({"belt-1", "dock-2"})
    assert who.sees("belt-1") and not who.sees("gate-3")
    assert (
        keys.authenticate(keys.create("all", Role.VIEWER, None, "cli:ana").secret).cameras is None
    )


@pytest.mark.parametrize(
    "forge",
    [
        lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"),  # last character changed
        lambda s: s + "x",
        lambda s: s.replace("sw_", "sk_", 1),
        lambda s: "sw_" + s.split("_")[1],  # no secret part
        lambda s: "sw_01JD5Z3YV8N6Q2W8B1C4F7H9KM_" + s.split("_", 2)[2],  # another id
        lambda s: "",
    ],
)
def test_a_wrong_secret_is_refused(db: Database, forge: object) -> None:
    keys = ApiKeyStore(db)
    secret = keys.create("erp", Role.ADMIN, None, "cli:ana").secret
    assert callable(forge)
    with pytest.raises(AuthError):
        keys.authenticate(forge(secret))


def test_revocation_takes_effect_at_once_in_the_process(db: Database) -> None:
    keys = ApiKeyStore(db)
    issued = keys.create("erp", Role.VIEWER, None, "cli:ana")
    keys.authenticate(issued.secret)  # cached now
    info = keys.revoke(issued.id, by="cli:bob")
    assert (info.revoked_by, info.active()) == ("cli:bob", False)
    with pytest.raises(AuthError, match="revoked"):
        keys.authenticate(issued.secret)
    assert keys.revoke(issued.id, by="cli:eve").revoked_by == "cli:bob"  # once only
    with pytest.raises(LookupError):
        keys.revoke("01JD5Z3YV8N6Q2W8B1C4F7H9KM", by="cli:bob")


def test_another_process_revoking_is_seen_once_the_cache_ttl_passes(db: Database) -> None:
    here, there = ApiKeyStore(db, cache_ttl_s=3600), ApiKeyStore(db)
    issued = here.create("erp", Role.VIEWER, None, "cli:ana")
    here.authenticate(issued.secret)
    there.revoke(issued.id, by="cli:bob")
    here.authenticate(issued.secret)  # still cached: the documented window
    fresh = ApiKeyStore(db, cache_ttl_s=0)  # a TTL that has passed
    with pytest.raises(AuthError, match="revoked"):
        fresh.authenticate(issued.secret)


def test_an_expired_key_is_refused_even_when_cached(db: Database) -> None:
    clock = Clock()
    keys = ApiKeyStore(db, clock=clock, cache_ttl_s=3600)
    issued = keys.create("temp", Role.VIEWER, None, "cli:ana", expires_at=clock.now + 60)
    keys.authenticate(issued.secret)
    clock.now += 61
    with pytest.raises(AuthError, match="expired"):
        keys.authenticate(issued.secret)
    with pytest.raises(ValueError, match="past"):
        keys.create("late", Role.VIEWER, None, "cli:ana", expires_at=clock.now - 1)


def test_only_a_hash_is_stored(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'k.db'}", migrate=True)
    keys = ApiKeyStore(db, audit=AuditTrail(db))
    secrets = [keys.create(f"k{i}", Role.ADMIN, None, "cli:ana").secret for i in range(3)]
    with db.read() as conn:
        stored = [row.secret_sha256 for row in conn.execute(select(api_keys))]
    assert all(len(h) == 64 for h in stored)
    db.close()  # everything checkpointed into the files
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("k.db*"))
    for secret in secrets:
        random_part = secret.split("_", 2)[2]
        assert random_part.encode() not in raw
        assert secret.encode() not in raw


def test_list_and_audit_of_creation_and_revocation(db: Database) -> None:
    trail = AuditTrail(db)
    keys = ApiKeyStore(db, audit=trail)
    first = keys.create("a", Role.VIEWER, frozenset({"belt-1"}), "cli:ana")
    second = keys.create("b", Role.ADMIN, None, "cli:ana")
    keys.revoke(first.id, by="cli:bob")
    assert [k.id for k in keys.list()] == [first.id, second.id]
    assert [k.id for k in keys.list(include_revoked=False)] == [second.id]
    assert "secret" not in repr(first) and first.secret not in repr(first)
    entries = trail.entries()
    assert [(e.actor, e.action, e.target) for e in entries] == [
        ("cli:ana", "key.create", f"key:{first.id}"),
        ("cli:ana", "key.create", f"key:{second.id}"),
        ("cli:bob", "key.revoke", f"key:{first.id}"),
    ]
    assert entries[0].detail == {"name": "a", "role": "viewer", "cameras": "belt-1"}
    assert trail.verify() == []


def test_bad_requests_are_refused(db: Database) -> None:
    keys = ApiKeyStore(db)
    with pytest.raises(ValueError):
        keys.create("", Role.VIEWER, None, "cli:ana")
    with pytest.raises(ValueError, match="camera"):
        keys.create("none", Role.VIEWER, frozenset(), "cli:ana")
    assert keys.list() == []
