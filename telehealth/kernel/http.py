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

from telehealth.kernel.errors import Conflict, TelehealthError
from telehealth.kernel.validation import invalid_from
from telehealth.kernel.web.staff import LoginRequired, SignedIn, page_context
from telehealth.kernel.web.templating import templates

log = logging.getLogger("telehealth")


PAGE_PREFIXES = ("/staff", "/join", "/book", "/manage", "/find-appointment")
HEADINGS = {403: "You cannot do that", 404: "Page not found", 409: "That could not be done"}
# Framework errors in plain English; pages never show the framework's own wording.
PAGE_MESSAGES = {
    405: "This page cannot be used that way. Go back and try again.",
    500: "Sorry, something went wrong on our side. It has been logged: try again later.",
}


def _quality(accept: str, media_type: str) -> float:
    """How much an Accept header wants `media_type`: the q of its most specific match."""
    kind = media_type.split("/")[0]
    best, specificity = 0.0, -1
    for part in accept.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        rank = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(name.lower())
        if rank is None or rank < specificity:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best, specificity = q, rank
    return best


def wants_html(request: Request) -> bool:
    """Pages always answer with HTML and the API always with JSON; anything else (an unknown
    URL) follows the Accept header, so a browser gets a page and an API client JSON."""
    path = request.url.path
    if path.startswith("/api/") or path == "/api":
        return False
    if path.startswith(PAGE_PREFIXES):
        return True
    accept = request.headers.get("accept", "")
    html = _quality(accept, "text/html")
    # A bare */* (httpx, curl) names no preference: that is an API client.
    return (
        "text/html" in accept.lower() and html > 0 and html >= _quality(accept, "application/json")
    )


def _page(request: Request, error: TelehealthError) -> Response:
    status = error.status_code
    context: dict[str, object]
    if status == 404:
        template, context = "not_found.html", {"title": HEADINGS[404]}
    else:
        heading = HEADINGS.get(status, "There is a problem")
        message = PAGE_MESSAGES.get(status, error.message)
        template, context = (
            "problem.html",
            {"title": heading, "heading": heading, "message": message},
        )
    user = getattr(request.state, "signed_in", None)
    if isinstance(user, SignedIn) and status < 500:
        # Keep the signed-in header: navigation to what this user may use, and sign-out.
        context = page_context(request, user, **context)
    return templates.TemplateResponse(request, template, context, status_code=status)


def _render(
    error: TelehealthError, headers: dict[str, str] | None = None, request: Request | None = None
) -> Response:
    if request is not None and wants_html(request):
        return _page(request, error)
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
    return _render(
        Conflict("the change conflicts with data changed at the same time"), request=request
    )


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
