"""What the API's routes work with: the config, the stores, sign-in and the audit trail.

``ApiContext.open(config)`` opens everything a config names; tests build one from
their own parts. Routes reach it with ``Depends(context)``.

>>> # ctx = ApiContext.open(load_config("site.yaml"), live=LiveView(runner))
>>> # app = create_app(ctx)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from fastapi import Request

from sightwire.api.limits import RateLimiter
from sightwire.api.streams import OpenStreams
from sightwire.config.models import SightwireConfig
from sightwire.events.store import EventStore
from sightwire.security.audit import AuditTrail
from sightwire.security.principal import Principal

if TYPE_CHECKING:
    from sightwire.inference.registry import ModelRegistry
    from sightwire.runtime.live import LiveView


class Authenticator(Protocol):
    """Turns a credential into a caller, or raises ``AuthError``."""

    def authenticate(self, secret: str) -> Principal: ...


class TokenVerifier(Protocol):
    """Turns an OIDC bearer token into a caller, or raises ``AuthError``."""

    def verify(self, token: str) -> Principal: ...


@dataclass
class ApiContext:
    """Everything routes need; one per app."""

    config: SightwireConfig
    store: EventStore
    keys: Authenticator | None
    audit: AuditTrail
    oidc: TokenVerifier | None = None
    live: LiveView | None = None
    registry_factory: Callable[[], ModelRegistry] | None = None
    upload_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(120))
    config_path: Path | None = None  # the file `serve` loaded; the zone editor rewrites it
    streams: OpenStreams = field(default_factory=OpenStreams)  # ended when serving stops
    _registry: ModelRegistry | None = field(default=None, repr=False)

    @classmethod
    def open(
        cls,
        config: SightwireConfig,
        live: LiveView | None = None,
        store: EventStore | None = None,
    ) -> ApiContext:
        """The context of ``config``: its event store (migrated), keys, OIDC and audit.

        Pass the pipelines' ``store`` when they run in this process, so that the
        event stream hears of their events at once.
        """
        from sightwire.security.keys import ApiKeyStore

        store = store if store is not None else EventStore.open(config.store)
        keys = ApiKeyStore(store.db) if config.api.keys else None
        oidc = None
        if config.api.oidc is not None:
            from sightwire.security.oidc import OidcVerifier

            oidc = OidcVerifier(config.api.oidc)
        limiter = RateLimiter(config.api.uploads_per_minute)
        return cls(
            config, store, keys, AuditTrail(store.db), oidc=oidc, live=live, upload_limiter=limiter
        )

    @property
    def registry(self) -> ModelRegistry:
        """The model registry in the store's database (opened on first use)."""
        if self._registry is None:
            if self.registry_factory is not None:
                self._registry = self.registry_factory()
            else:
                self._registry = _open_registry(self.config)
        return self._registry


def _open_registry(config: SightwireConfig) -> ModelRegistry:
    from sightwire.inference.registry import ModelRegistry

    blobs = config.store.blobs
    folder = Path(blobs.removeprefix("file://")) / "models" if blobs.startswith("file://") else None
    if folder is None:
        raise RuntimeError("the model registry needs a file:// blob store for now")
    return ModelRegistry(config.store.database, folder, tls=config.store.tls)


def context(request: Request) -> ApiContext:
    """The app's context (a FastAPI dependency)."""
    ctx: ApiContext = request.app.state.context
    return ctx
