"""Signed-in staff sessions for the pages: login, logout, CSRF, and who is signed in.

The session is Starlette's signed cookie (itsdangerous). It holds only the user id and a CSRF
token; the user is reloaded on every request, so deactivating an account takes effect at once.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from telehealth.auth.models import Role, StaffUser
from telehealth.auth.service import authenticate_password
from telehealth.db import sessionmaker_of
from telehealth.errors import Forbidden, Unauthenticated
from telehealth.web.templating import templates

HOME_FOR_ROLE = {
    Role.CLINICIAN: "/staff/clinic",
    Role.RECEPTION: "/staff/reception",
    Role.ADMIN: "/staff/clinic",
    Role.NAVIGATOR: "/staff/clinic",
    Role.ANALYST: "/staff/reports/travel",
}


class LoginRequired(Exception):
    """Raised by page handlers; the app turns it into a redirect to the login page."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> dict[str, str]:
    form = await request.form()
    sent = str(form.get("csrf", ""))
    expected = request.session.get("csrf", "")
    # As bytes: compare_digest raises TypeError (a 500) on a str with non-ASCII characters.
    if not expected or not hmac.compare_digest(sent.encode(), str(expected).encode()):
        raise Forbidden("the form has expired: go back, reload the page and try again")
    return {k: str(v) for k, v in form.items()}


async def signed_in(
    request: Request, session: AsyncSession, roles: Sequence[Role] = tuple(Role)
) -> StaffUser:
    user_id = request.session.get("user_id")
    user = await session.get(StaffUser, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        raise LoginRequired
    if user.role not in roles:
        raise Forbidden(f"the {user.role} role cannot use this page")
    return user


def page_context(request: Request, user: StaffUser, **extra: object) -> dict[str, object]:
    return {"staff_user": user, "csrf": csrf_token(request), **extra}


async def login_page(request: Request) -> Response:
    return templates.TemplateResponse(
        request,
        "staff/login.html",
        {
            "title": "Sign in",
            "csrf": csrf_token(request),
            "next": request.query_params.get("next", ""),
        },
    )


def _safe_next(value: str) -> str | None:
    # Only local paths: never redirect a signed-in user to another site.
    return value if value.startswith("/") and not value.startswith("//") else None


async def login(request: Request) -> Response:
    form = await check_csrf(request)
    sessionmaker = sessionmaker_of(request)
    async with sessionmaker() as session:
        try:
            user = await authenticate_password(
                session, email=form.get("email", ""), password=form.get("password", "")
            )
        except Unauthenticated:
            return templates.TemplateResponse(
                request,
                "staff/login.html",
                {
                    "title": "Sign in",
                    "csrf": csrf_token(request),
                    "next": form.get("next", ""),
                    "error": "Enter a correct email address and password",
                    "email": form.get("email", ""),
                },
                status_code=401,
            )
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    target = _safe_next(form.get("next", "")) or HOME_FOR_ROLE[Role(user.role)]
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    await check_csrf(request)
    request.session.clear()
    return RedirectResponse("/staff/login", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/staff/login", login_page, methods=["GET"]),
        Route("/staff/login", login, methods=["POST"]),
        Route("/staff/logout", logout, methods=["POST"]),
    ]
