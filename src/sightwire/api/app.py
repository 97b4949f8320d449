"""The FastAPI application: routers, sign-in, limits, errors as problem+json.

>>> # app = create_app(ApiContext.open(load_config("site.yaml")))
>>> # uvicorn.run(app)                     # or `sightwire serve site.yaml`

The OpenAPI spec is at ``/api/openapi.json`` and its page at ``/api/docs`` (Swagger UI
served from this server: see :mod:`sightwire.api.docs_page`).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from sightwire import __version__, web
from sightwire.api.context import ApiContext
from sightwire.api.docs_page import install_docs
from sightwire.api.limits import BodyLimit, BodyLimits, SecurityHeaders
from sightwire.api.problems import add_problem_schema, install_problem_handlers
from sightwire.api.routes import (
    cameras,
    deliveries,
    events,
    health,
    models,
    rules,
    snapshots,
    stream,
    uploads,
)

DESCRIPTION = """Camera events, snapshots, live frames, uploads and models of a Sightwire site.

Sign in with `Authorization: Bearer <API key or OIDC token>` or `X-API-Key: <API key>`.
Roles: viewer (read), operator (acknowledge, upload, retry), admin (models, config).
Errors are RFC 9457 problem documents (`application/problem+json`).
"""


def create_app(ctx: ApiContext) -> FastAPI:
    """The API of one site, working with ``ctx``."""
    docs = ctx.config.api.docs
    app = FastAPI(
        title="Sightwire",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # served by docs_page with local assets: sites are offline
        redoc_url=None,
        openapi_url="/api/openapi.json" if docs else None,
    )
    app.state.context = ctx
    if docs:
        install_docs(app, "/api/openapi.json")
    for module in (health, stream, events, snapshots, cameras, uploads, rules, deliveries, models):
        app.include_router(module.router)
    web.install(app)  # the UI: pages under /ui, their static files and JSON routes
    install_problem_handlers(app)
    _add_middleware(app, ctx)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = add_problem_schema(spec)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _add_middleware(app: FastAPI, ctx: ApiContext) -> None:
    config = ctx.config.api
    # Added last runs first: the size limit sees a request before anything reads it.
    app.add_middleware(SecurityHeaders, https=config.tls is not None)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=config.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Last-Event-ID"],
        )
    limits = BodyLimits(default=config.max_body_bytes, uploads=config.max_upload_bytes)
    app.add_middleware(BodyLimit, limits=limits)
