"""Errors as RFC 9457 problem details (``application/problem+json``), never stack traces.

Routes raise :class:`ApiError`; the handlers here also turn Starlette's HTTP errors,
request validation errors and anything unexpected into problem documents. An
unexpected error is logged with its traceback and answered with a generic 500.

>>> ApiError(404, "no event 01J...").document("/api/v1/events/01J...")["title"]
'Not Found'
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("sightwire.api")
PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """An error, as RFC 9457 describes it."""

    type: str = Field("about:blank", description="A URI naming the kind of problem")
    title: str = Field(description="The HTTP status phrase")
    status: int = Field(description="The HTTP status code")
    detail: str | None = Field(None, description="What went wrong, for a person")
    instance: str | None = Field(None, description="The path of the request")
    errors: list[dict[str, Any]] | None = Field(
        None, description="For 422: each invalid field and why"
    )


class ApiError(Exception):
    """An answer other than success: a status, what went wrong, and extra headers."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail or HTTPStatus(status).phrase)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors

    def document(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document of this error."""
        problem = Problem(
            title=HTTPStatus(self.status).phrase,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
        )
        return problem.model_dump(exclude_none=True)


def problem_response(problem: ApiError, request: Request) -> JSONResponse:
    """The HTTP answer carrying ``problem``."""
    return JSONResponse(
        problem.document(request.url.path),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_JSON,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem document."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return problem_response(exc, request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        return problem_response(
            ApiError(exc.status_code, str(exc.detail), headers=headers), request
        )

    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        # Without "input": a rejected value may be a secret someone pasted by mistake.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        problem = ApiError(422, "the request is not valid", errors=errors)
        return problem_response(problem, request)

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("request failed: %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(ApiError(500, "internal error; see the server log"), request)

    app.add_exception_handler(ApiError, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(Exception, on_error)


def _problem_ref() -> dict[str, Any]:
    return {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses (problem+json).

    >>> sorted(errors(401, 404))
    [401, 404, 422, 500]
    """
    codes = sorted({*statuses, 422, 500})
    return {
        code: {"description": HTTPStatus(code).phrase, "content": _problem_ref()} for code in codes
    }


def add_problem_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with the Problem schema among its components (the errors refer to it)."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    return spec
