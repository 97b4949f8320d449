"""API keys: issued once, stored hashed, scoped to a role and optionally to cameras.

A key's secret reads ``sw_<key id>_<43 random characters>``; only its SHA-256 is kept.
The id part finds the row, so checking a key is one primary-key lookup and one
constant-time comparison.

>>> import tempfile
>>> from sightwire.storage.database import open_database
>>> keys = ApiKeyStore(open_database(f"sqlite:///{tempfile.mkdtemp()}/k.db", migrate=True))
>>> issued = keys.create("erp", Role.VIEWER, frozenset({"belt-1"}), created_by="cli:ana")
>>> who = keys.authenticate(issued.secret)
>>> who.role, who.sees("belt-1"), who.sees("dock-2")
(<Role.VIEWER: 'viewer'>, True, False)
>>> keys.revoke(issued.id, by="cli:ana").revoked_by
'cli:ana'
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, insert, select, update

from sightwire.core.ids import new_id
from sightwire.security.audit import AuditAction, AuditTrail
from sightwire.security.principal import AuthError, Principal, Role
from sightwire.security.tables import api_keys
from sightwire.storage.database import Database

__all__ = ["KEY_PREFIX", "ApiKeyInfo", "ApiKeyStore", "IssuedKey"]

KEY_PREFIX = "sw_"
CACHE_TTL_S = 5.0
"""How long a process trusts a key row it read; a revocation made by another process
takes effect within this time (in the revoking process, at once)."""
_ID_LENGTH = 26  # a ULID
_SECRET_BYTES = 32  # 256 bits from the OS's CSPRNG


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """A key as listed: everything but the secret (which is never stored)."""

    id: str
    name: str
    role: Role
    cameras: frozenset[str] | None
    created_at: float
    created_by: str
    expires_at: float | None = None
    revoked_at: float | None = None
    revoked_by: str | None = None

    def active(self, now: float | None = None) -> bool:
        """Neither revoked nor expired at ``now`` (default: the current time)."""
        at = time.time() if now is None else now
        return self.revoked_at is None and (self.expires_at is None or at < self.expires_at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (cameras sorted, ``null`` for every camera)."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "cameras": None if self.cameras is None else sorted(self.cameras),
            "created_at": self.created_at,
            "created_by": self.created_by,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "revoked_by": self.revoked_by,
            "active": self.active(),
        }


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its secret: show the secret once, it cannot be read back."""

    info: ApiKeyInfo
    secret: str = field(repr=False)  # never in a repr, a log line or a traceback

    @property
    def id(self) -> str:
        return self.info.id


@dataclass(frozen=True, slots=True)
class _Cached:
    info: ApiKeyInfo
    digest: str
    read_at: float


class ApiKeyStore:
    """The ``api_keys`` table: create, authenticate, revoke, list.

    With ``audit``, creation and revocation are recorded in the same transaction.
    """

    def __init__(
        self,
        db: Database,
        *,
        audit: AuditTrail | None = None,
        cache_ttl_s: float = CACHE_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._audit = audit
        self._ttl = cache_ttl_s
        self._clock = clock
        self._cache: dict[str, _Cached] = {}
        self._lock = threading.Lock()

    def create(
        self,
        name: str,
        role: Role,
        cameras: frozenset[str] | None,
        created_by: str,
        expires_at: float | None = None,
    ) -> IssuedKey:
        """Issue a key; ``cameras=None`` lets it see every camera.

        >>> # issued = keys.create("wms", Role.OPERATOR, None, "cli:ana", time.time() + 86400)
        >>> # print(issued.secret)  # once: only its hash is stored
        """
        now = self._clock()
        _validate(name, cameras, expires_at, now)
        key_id = new_id(now)
        secret = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"
        info = ApiKeyInfo(key_id, name, Role(role), cameras, now, created_by, expires_at)
        row = {
            "id": key_id,
            "name": name,
            "role": info.role.value,
            "cameras": None if cameras is None else json.dumps(sorted(cameras)),
            "secret_sha256": _digest(secret),
            "created_at": now,
            "created_by": created_by,
            "expires_at": expires_at,
        }
        with self._db.write() as conn:
            conn.execute(insert(api_keys).values(**row))
            self._record(conn, created_by, AuditAction.KEY_CREATE, info)
        return IssuedKey(info, secret)

    def authenticate(self, secret: str) -> Principal:
        """The caller a key's secret names; :class:`AuthError` says why when it names none.

        The reason is for the log; it never contains the secret.
        """
        key_id = _key_id(secret)
        cached = self._lookup(key_id)
        if cached is None or not hmac.compare_digest(cached.digest, _digest(secret)):
            raise AuthError(f"unknown API key {key_id}")
        info = cached.info
        if info.revoked_at is not None:
            raise AuthError(f"API key {key_id} was revoked")
        if not info.active(self._clock()):
            raise AuthError(f"API key {key_id} expired")
        return Principal(f"key:{key_id}", info.role, info.cameras, method="api_key")

    def revoke(self, key_id: str, by: str) -> ApiKeyInfo:
        """Revoke a key (again: no change); :class:`LookupError` when there is none."""
        now = self._clock()
        with self._db.write() as conn:
            found = _read(conn, key_id)
            if found is None:
                raise LookupError(f"no API key {key_id}")
            info = found[0]
            if info.revoked_at is None:
                values = {"revoked_at": now, "revoked_by": by}
                conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(**values))
                self._record(conn, by, AuditAction.KEY_REVOKE, info)
                info = replace(info, revoked_at=now, revoked_by=by)
        with self._lock:
            self._cache.pop(key_id, None)  # in this process, at once
        return info

    def get(self, key_id: str) -> ApiKeyInfo | None:
        """One key's details, or None."""
        with self._db.read() as conn:
            found = _read(conn, key_id)
        return None if found is None else found[0]

    def list(self, include_revoked: bool = True) -> builtins.list[ApiKeyInfo]:
        """Every key, oldest first."""
        query = select(api_keys).order_by(api_keys.c.id)
        if not include_revoked:
            query = query.where(api_keys.c.revoked_at.is_(None))
        with self._db.read() as conn:
            return [_info(row._mapping) for row in conn.execute(query)]

    def _lookup(self, key_id: str) -> _Cached | None:
        # Caching the row, not the verdict: every call still compares the digest and
        # checks expiry; only a revocation by another process waits for the TTL.
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None and now - cached.read_at < self._ttl:
            return cached
        with self._db.read() as conn:
            found = _read(conn, key_id)
        if found is None:
            return None
        fresh = _Cached(found[0], found[1], now)
        with self._lock:
            self._cache[key_id] = fresh
        return fresh

    def _record(self, conn: Connection, actor: str, action: str, info: ApiKeyInfo) -> None:
        if self._audit is not None:
            detail = {"name": info.name, "role": info.role.value}
            if info.cameras is not None:
                detail["cameras"] = ",".join(sorted(info.cameras))
            self._audit.append(conn, actor, action, f"key:{info.id}", detail)


def _digest(secret: str) -> str:
    # A plain SHA-256 is right here: the secret is 256 random bits, so there is no
    # dictionary to try and brute force is out of reach; bcrypt/argon2 exist to slow
    # guessing of low-entropy passwords and would cost tens of ms on every request.
    return hashlib.sha256(secret.encode()).hexdigest()


def _key_id(secret: str) -> str:
    if not secret.startswith(KEY_PREFIX):
        raise AuthError("not a Sightwire API key")
    key_id, sep, rest = secret[len(KEY_PREFIX) :].partition("_")
    if not sep or len(key_id) != _ID_LENGTH or not key_id.isalnum() or not rest:
        raise AuthError("malformed API key")
    return key_id


def _validate(
    name: str, cameras: frozenset[str] | None, expires_at: float | None, now: float
) -> None:
    if not name.strip() or len(name) > 128:
        raise ValueError("a key's name must be 1 to 128 characters")
    if cameras is not None and not cameras:
        raise ValueError("give at least one camera, or None for every camera")
    if expires_at is not None and expires_at <= now:
        raise ValueError("expires_at is in the past")


def _read(conn: Connection, key_id: str) -> tuple[ApiKeyInfo, str] | None:
    row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None:
        return None
    return _info(row._mapping), str(row.secret_sha256)


def _info(row: Any) -> ApiKeyInfo:
    cameras = row["cameras"]
    return ApiKeyInfo(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        cameras=None if cameras is None else frozenset(json.loads(cameras)),
        created_at=float(row["created_at"]),
        created_by=row["created_by"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by"],
    )
