"""Errors to HTTP, in one place: every error leaves as {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import pydantic
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ExceptionHandler

from telehealth.api import invalid_from
from telehealth.errors import Conflict, TelehealthError
from telehealth.web.staff import LoginRequired
from telehealth.web.templating import templates

log = logging.getLogger("telehealth")


PAGE_PREFIXES = ("/staff", "/join")
HEADINGS = {403: "You cannot do that", 404: "Page not found", 409: "That could not be done"}


def _render(
    error: TelehealthError, headers: dict[str, str] | None = None, request: Request | None = None
) -> Response:
    if request is not None and request.url.path.startswith(PAGE_PREFIXES):
        heading = HEADINGS.get(error.status_code, "There is a problem")
        return templates.TemplateResponse(
            request,
            "problem.html",
            {"title": heading, "heading": heading, "message": error.message},
            status_code=error.status_code,
        )
    return JSONResponse(error.as_dict(), status_code=error.status_code, headers=headers)


async def on_telehealth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TelehealthError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return _render(exc, headers, request)


async def on_login_required(request: Request, exc: Exception) -> Response:
    return RedirectResponse(f"/staff/login?{urlencode({'next': request.url.path})}", 303)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, pydantic.ValidationError)
    return _render(invalid_from(exc), request=request)


async def on_integrity_error(request: Request, exc: Exception) -> Response:
    # Known constraints are translated where they can happen; reaching here means a rule the
    # caller could not have checked for (a concurrent change), which is a conflict, not a crash.
    log.warning("unmapped integrity error on %s: %s", request.url.path, exc)
    return _render(Conflict("the change conflicts with data changed at the same time"))


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    error = TelehealthError(exc.detail, code=codes.get(exc.status_code, "http_error"))
    error.status_code = exc.status_code
    return _render(error, dict(exc.headers) if exc.headers else None, request)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _render(
        TelehealthError("something went wrong on our side; it has been logged"), None, request
    )


def error_handlers() -> dict[int | type[Exception], ExceptionHandler]:
    return {
        TelehealthError: on_telehealth_error,
        LoginRequired: on_login_required,
        pydantic.ValidationError: on_validation_error,
        IntegrityError: on_integrity_error,
        HTTPException: on_http_exception,
        Exception: on_unexpected,
    }
