"""Who is calling: the sign-in dependency every route but the health checks uses.

A caller sends ``Authorization: Bearer <token>`` or ``X-API-Key: <key>``. Tokens that
start with ``sw_`` are API keys; any other bearer token goes to the OIDC verifier when
``api.oidc`` is configured. No or bad credentials: 401 with ``WWW-Authenticate``; a
role too low: 403.

>>> # @router.get("/things")
>>> # def things(caller: Viewer) -> ...:     # any signed-in caller with viewer or above
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from sightwire.api.context import ApiContext, context
from sightwire.api.problems import ApiError
from sightwire.security.principal import AuthError, Principal, Role

log = logging.getLogger("sightwire.api.auth")
KEY_PREFIX = "sw_"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sightwire"'}

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (`sw_...`) or, when configured, an OIDC access token",
)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="apiKey", description="An API key (`sw_...`)"
)


def unauthorised(detail: str) -> ApiError:
    """The 401 answer, with the challenge that tells clients how to sign in."""
    return ApiError(401, detail, headers=dict(_CHALLENGE))


def current_principal(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    api_key: Annotated[str | None, Security(api_key_scheme)],
) -> Principal:
    """The signed-in caller; 401 when credentials are missing or prove nothing.

    A plain function, so FastAPI runs it in a worker thread: key look-ups and JWKS
    fetches block.
    """
    token = api_key or (credentials.credentials if credentials is not None else None)
    if not token:
        raise unauthorised("sign in with an API key or a bearer token")
    try:
        if api_key and not api_key.startswith(KEY_PREFIX):
            raise AuthError("X-API-Key takes API keys only (sw_...)")
        principal = _verify(ctx, token)
    except AuthError as exc:
        # The reason goes to the log, not to the caller (no oracle for guessing keys).
        log.info("sign-in refused: %s", exc, extra={"path": request.url.path})
        raise unauthorised("the credentials are not valid") from None
    request.state.principal = principal
    return principal


def _verify(ctx: ApiContext, token: str) -> Principal:
    if token.startswith(KEY_PREFIX):
        if ctx.keys is None:
            raise AuthError("API keys are turned off (api.keys: false)")
        return ctx.keys.authenticate(token)
    if ctx.oidc is None:
        raise AuthError("not an API key, and no OIDC provider is configured")
    return ctx.oidc.verify(token)


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency: the caller, if their role includes ``role``; 403 otherwise."""

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.can(role):
            raise ApiError(403, f"this needs the {role.value} role")
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


def check_camera(principal: Principal, camera: str) -> None:
    """403 when the caller is limited to other cameras."""
    if not principal.sees(camera):
        raise ApiError(403, f"your access does not include camera {camera!r}")


def scrape_allowed(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    api_key: Annotated[str | None, Security(api_key_scheme)],
) -> None:
    """/metrics: the scrape token (``api.metrics_token``), or any viewer's credentials."""
    token = ctx.config.api.metrics_token
    offered = credentials.credentials if credentials is not None else ""
    if (
        token is not None
        and offered
        and hmac.compare_digest(offered.encode(), token.get_secret_value().encode())
    ):
        return
    principal = current_principal(request, ctx, credentials, api_key)
    if not principal.can(Role.VIEWER):
        raise ApiError(403, "this needs the viewer role")
