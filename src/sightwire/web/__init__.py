"""The web UI that ``sightwire serve`` shows: server-rendered pages, a little vanilla
JavaScript, and the JSON routes the pages need beyond the API's own.

Pages hold no data and need no sign-in to load; their scripts fetch everything from
``/api/v1`` with the credential the user gave on the sign-in page (kept in the
browser tab's sessionStorage), so the API's auth and roles govern what they show.

>>> # app = create_app(ctx); install(app)      # pages under /ui, static files, routes
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Add the UI's pages, static files and JSON routes to ``app``."""
    from sightwire.web import api_review, api_status, api_zones, routes, sign_in

    app.include_router(routes.router)
    app.include_router(sign_in.router)
    app.include_router(api_zones.router)
    app.include_router(api_review.router)
    app.include_router(api_status.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")


__all__ = ["install"]
