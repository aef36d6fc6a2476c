"""Errors to HTTP, in one place: every error leaves as {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

import logging

import pydantic
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

from telehealth.api import invalid_from
from telehealth.errors import Conflict, TelehealthError

log = logging.getLogger("telehealth")


def _render(error: TelehealthError, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(error.as_dict(), status_code=error.status_code, headers=headers)


async def on_telehealth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TelehealthError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    return _render(exc, headers)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, pydantic.ValidationError)
    return _render(invalid_from(exc))


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
    return _render(error, dict(exc.headers) if exc.headers else None)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _render(TelehealthError("something went wrong on our side; it has been logged"))


def error_handlers() -> dict[int | type[Exception], ExceptionHandler]:
    return {
        TelehealthError: on_telehealth_error,
        pydantic.ValidationError: on_validation_error,
        IntegrityError: on_integrity_error,
        HTTPException: on_http_exception,
        Exception: on_unexpected,
    }
