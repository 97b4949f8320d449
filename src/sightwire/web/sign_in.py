"""``GET /ui/signin/config``: the public settings the sign-in and callback pages need.

It is unauthenticated, like the health checks and the OpenAPI page, and holds
nothing secret: which sign-in methods the server accepts and, for the browser's
authorization code flow with PKCE, the provider's public client id, scopes and
endpoints (all of which the provider publishes itself, or any user sees in the
address bar on signing in). A public client has no secret to leak.

>>> # GET /ui/signin/config -> {"api_keys": true, "bearer_tokens": true,
>>> #   "oidc": {"issuer": ..., "client_id": "sightwire-ui", "token_endpoint": ...}}
"""

from __future__ import annotations

import threading
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from sightwire.api.context import ApiContext, context
from sightwire.web.provider import Discovery

router = APIRouter(include_in_schema=False)
Ctx = Annotated[ApiContext, Depends(context)]
_lock = threading.Lock()


class OidcSignIn(BaseModel):
    """What the browser needs to run the authorization code flow with PKCE."""

    issuer: str
    label: str = Field(description="the provider's host, for the button")
    client_id: str
    scopes: list[str]
    authorize_params: dict[str, str]
    authorization_endpoint: str
    token_endpoint: str
    response_mode: str = Field(description="fragment (preferred: never logged) or query")


class SignInConfig(BaseModel):
    """How one may sign in to this server."""

    api_keys: bool = Field(description="API keys are accepted")
    bearer_tokens: bool = Field(description="OIDC access tokens are accepted (pasted or by flow)")
    oidc: OidcSignIn | None = Field(description="the provider button's settings; null: none")
    oidc_problem: str | None = Field(
        description="why the provider button is missing although a client_id is configured"
    )


def discovery(request: Request) -> Discovery | None:
    """The app's cached provider endpoints; None unless the UI has a ``client_id``."""
    ctx: ApiContext = request.app.state.context
    oidc = ctx.config.api.oidc
    if oidc is None or oidc.client_id is None:
        return None
    with _lock:  # one Discovery per app, made on first use
        found: Discovery | None = getattr(request.app.state, "ui_discovery", None)
        if found is None:
            found = Discovery(oidc)
            request.app.state.ui_discovery = found
        return found


@router.get("/ui/signin/config", response_model=SignInConfig)
def sign_in_config(request: Request, ctx: Ctx) -> SignInConfig:
    oidc = ctx.config.api.oidc
    settings = SignInConfig(
        api_keys=ctx.config.api.keys, bearer_tokens=oidc is not None, oidc=None, oidc_problem=None
    )
    found = discovery(request)
    if oidc is None or oidc.client_id is None or found is None:
        return settings
    endpoints = found.endpoints()
    if endpoints is None:  # the cause is in the server's log, not for anonymous callers
        settings.oidc_problem = "The identity provider cannot be reached; try again shortly."
        return settings
    settings.oidc = OidcSignIn(
        issuer=oidc.issuer,
        label=urlsplit(oidc.issuer).hostname or oidc.issuer,
        client_id=oidc.client_id,
        scopes=oidc.scopes,
        authorize_params=oidc.authorize_params,
        authorization_endpoint=endpoints.authorization_endpoint,
        token_endpoint=endpoints.token_endpoint,
        response_mode=endpoints.response_mode,
    )
    return settings
