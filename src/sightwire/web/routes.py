"""The UI's pages: HTML shells whose scripts fetch their data from ``/api/v1``.

A page carries no data and no secret, so serving it needs no sign-in; its script
sends the user's credential with every API call and goes to the sign-in page on 401.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sightwire.web import sign_in

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
router = APIRouter(include_in_schema=False)

# (path, template, title shown in the navigation); the order is the navigation's.
PAGES = [
    ("live", "live.html", "Live"),
    ("events", "events.html", "Events"),
    ("review", "review.html", "Review"),
    ("rules", "rules.html", "Rules"),
    ("zones", "zones.html", "Zones"),
    ("models", "models.html", "Models"),
    ("health", "health.html", "Health"),
]
EventId = Annotated[str, PathParam(pattern=r"^[0-9A-Za-z]{1,64}$")]


def _render(
    request: Request, template: str, page: str, connect: str = "", **extra: object
) -> Response:
    context = {"page": page, "pages": PAGES, **extra}
    response = TEMPLATES.TemplateResponse(request, template, context)
    # The pages run only our own scripts; nothing may frame them. ``connect`` adds an
    # origin a page may fetch from besides ours (the callback: the token endpoint).
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; "
        f"script-src 'self'; connect-src 'self'{connect}; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    """The UI's front page is the event timeline."""
    return RedirectResponse("/ui/events", status_code=307)


@router.get("/ui", response_class=RedirectResponse)
@router.get("/ui/", response_class=RedirectResponse)
def ui_home() -> RedirectResponse:
    return RedirectResponse("/ui/events", status_code=307)


@router.get("/ui/signin", response_class=HTMLResponse)
def signin(request: Request) -> Response:
    return _render(request, "signin.html", "signin")


@router.get("/ui/callback", response_class=HTMLResponse)
def callback(request: Request) -> Response:
    """Where the provider sends the user back with a code; its script redeems it.

    Only this page may reach the token endpoint: the other pages talk to us alone.
    """
    found = sign_in.discovery(request)
    endpoints = found.endpoints() if found is not None else None
    connect = f" {endpoints.token_origin}" if endpoints is not None else ""
    return _render(request, "callback.html", "callback", connect=connect)


@router.get("/ui/events/{event_id}", response_class=HTMLResponse)
def event_page(request: Request, event_id: EventId) -> Response:
    return _render(request, "event.html", "events", event_id=event_id)


def _page_route(path: str, template: str) -> None:
    def page(request: Request) -> Response:
        return _render(request, template, path)

    router.add_api_route(f"/ui/{path}", page, methods=["GET"], response_class=HTMLResponse)


for _path, _template, _title in PAGES:
    _page_route(_path, _template)
