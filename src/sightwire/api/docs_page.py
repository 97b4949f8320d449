"""The OpenAPI page, ``/api/docs``, served with its own Swagger UI files.

Sites are often offline, so the page loads nothing from a CDN: Swagger UI's
JavaScript, CSS and icon come from the ``swagger-ui-bundle`` package under
``/api/docs/assets``. The page sets its own Content-Security-Policy, as the UI's
pages do: scripts from this server plus the page's one inline script (by its hash),
styles from this server and inline (Swagger UI sets style attributes), images from
this server and ``data:`` URLs (its icons).

>>> csp = page_csp(b"<script src='/a.js'></script><script>init()</script>")
>>> csp.split("; ")[1]
"script-src 'self' 'sha256-w4ujnOpjBoH2vcasx+reJRUwYivG8Q3afx/XevGJod8='"
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # no types

DOCS_URL = "/api/docs"
ASSETS_URL = f"{DOCS_URL}/assets"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve the OpenAPI page of ``openapi_url`` at ``/api/docs``, assets included."""
    app.mount(ASSETS_URL, StaticFiles(directory=swagger_ui_path), name="api-docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def docs_page() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon-32x32.png",
        )
        page.headers["Content-Security-Policy"] = page_csp(bytes(page.body))
        return page


def page_csp(html: bytes) -> str:
    """A CSP that lets ``html`` run its inline scripts (by hash) and nothing foreign."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return (
        "default-src 'self'; "
        f"script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'"
    )
