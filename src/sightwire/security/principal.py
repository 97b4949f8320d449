"""The caller of an API route, whichever way they signed in.

A :class:`Principal` comes from an API key or an OIDC bearer token; routes ask it
whether its role is enough and whether it may see a camera.

>>> key = Principal("key:01J...", Role.OPERATOR, cameras=frozenset({"belt-1"}), method="api_key")
>>> key.can(Role.VIEWER), key.can(Role.ADMIN)
(True, False)
>>> key.sees("belt-1"), key.sees("dock-2")
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    """What a caller may do; each role includes the ones before it.

    - ``viewer``: read events, snapshots, cameras, models and the health pages.
    - ``operator``: also acknowledge events, review, upload frames, retry deliveries.
    - ``admin``: also change config and zones, promote or roll back models, manage keys.
    """

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.VIEWER: 1, Role.OPERATOR: 2, Role.ADMIN: 3}


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in caller.

    ``subject`` names them in the audit trail (``key:<id>`` for an API key,
    ``oidc:<sub>`` for an OIDC token); ``cameras`` limits them to those cameras
    (``None``: every camera).
    """

    subject: str
    role: Role
    cameras: frozenset[str] | None = None
    method: Literal["api_key", "oidc", "local"] = "api_key"

    def can(self, needed: Role) -> bool:
        """Whether this caller's role includes ``needed``."""
        return self.role.rank >= needed.rank

    def sees(self, camera: str) -> bool:
        """Whether this caller may see ``camera``'s frames and events."""
        return self.cameras is None or camera in self.cameras


class AuthError(Exception):
    """Credentials that prove nothing: missing, malformed, expired, revoked or forged.

    The message says why, for the log; the API answers 401 without it.
    """
