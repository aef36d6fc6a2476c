"""Signed-in staff sessions for the pages: login, logout, CSRF, and who is signed in.

The session is Starlette's signed cookie (itsdangerous). It holds only the user id and a CSRF
token; the user is reloaded on every request, so deactivating an account takes effect at once.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from telehealth.kernel.auth.models import Role, StaffUser
from telehealth.kernel.auth.service import authenticate_password
from telehealth.kernel.errors import Forbidden, Unauthenticated
from telehealth.kernel.inputs import Posted, read_form
from telehealth.kernel.transactions import run_in_transaction
from telehealth.kernel.web.templating import templates


@dataclass(frozen=True)
class StaffPage:
    path: str
    title: str
    roles: tuple[Role, ...]


# Every staff page and who may use it: the pages check their roles here, the header's
# navigation is built from it, and each role lands on the first page it may use.
STAFF_PAGES = (
    StaffPage("/staff/worklist", "Worklist", (Role.NAVIGATOR, Role.ADMIN)),
    StaffPage("/staff/patients", "Patients", (Role.NAVIGATOR, Role.ADMIN)),
    StaffPage("/staff/to-rebook", "To rebook", (Role.NAVIGATOR, Role.ADMIN)),
    StaffPage("/staff/clinic", "Clinic", (Role.CLINICIAN, Role.NAVIGATOR, Role.ADMIN)),
    StaffPage("/staff/availability", "Availability", (Role.CLINICIAN, Role.NAVIGATOR, Role.ADMIN)),
    StaffPage("/staff/reception", "Reception", (Role.RECEPTION, Role.NAVIGATOR, Role.ADMIN)),
    StaffPage("/staff/outbox", "Messages", (Role.RECEPTION, Role.NAVIGATOR, Role.ADMIN)),
    StaffPage("/staff/reports/travel", "Travel report", (Role.ANALYST, Role.NAVIGATOR, Role.ADMIN)),
    StaffPage("/staff/admin/sites", "Sites", (Role.ADMIN,)),
    StaffPage("/staff/admin/services", "Services", (Role.ADMIN,)),
    StaffPage("/staff/admin/clinicians", "Clinicians", (Role.ADMIN,)),
    StaffPage("/staff/admin/users", "Users", (Role.ADMIN,)),
)


def roles_for(path: str) -> tuple[Role, ...]:
    """The roles that may use the staff page at `path` (and everything beneath it)."""
    return next(page.roles for page in STAFF_PAGES if page.path == path)


HOME_FOR_ROLE = {
    role: next(page.path for page in STAFF_PAGES if role in page.roles) for role in Role
}


@dataclass(frozen=True)
class NavigationItem:
    href: str
    text: str
    current: bool  # this very page (aria-current="page")
    active: bool  # a page inside this section, such as one message (aria-current="true")


def navigation(role: str, path: str) -> list[NavigationItem]:
    """The header's links for a role, with the page at `path` marked."""
    return [
        NavigationItem(
            href=page.path,
            text=page.title,
            current=path == page.path,
            active=path.startswith(page.path + "/"),
        )
        for page in STAFF_PAGES
        if role in page.roles
    ]


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in, as the header shows them: plain values that outlive the database
    session (an error page is rendered after its rollback has expired the user row)."""

    name: str
    role: str


class LoginRequired(Exception):
    """Raised by page handlers; the app turns it into a redirect to the login page."""


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request, *, refuse: bool = True) -> Posted:
    """The posted form once its CSRF token is checked. A NUL in any field is refused as a
    422 naming it, unless the page asks for the form as it is (`refuse=False`) to show the
    refusal on the form itself (`Posted.errors`)."""
    form = await read_form(request)
    sent = form.get("csrf", "")
    expected = request.session.get("csrf", "")
    # As bytes: compare_digest raises TypeError (a 500) on a str with non-ASCII characters.
    if not expected or not hmac.compare_digest(sent.encode(), str(expected).encode()):
        raise Forbidden("the form has expired: go back, reload the page and try again")
    if refuse:
        form.refuse()
    return form


async def signed_in(
    request: Request, session: AsyncSession, roles: Sequence[Role] = tuple(Role)
) -> StaffUser:
    user_id = request.session.get("user_id")
    user = await session.get(StaffUser, user_id) if isinstance(user_id, int) else None
    if user is None or not user.active:
        raise LoginRequired
    # Error pages shown from here on keep the header (navigation and sign-out) for this user.
    request.state.signed_in = SignedIn(name=user.name, role=user.role)
    if user.role not in roles:
        raise Forbidden(f"the {user.role} role cannot use this page")
    return user


def page_context(
    request: Request, user: StaffUser | SignedIn, **extra: object
) -> dict[str, object]:
    return {
        "staff_user": user,
        "csrf": csrf_token(request),
        "navigation": navigation(user.role, request.url.path),
        **extra,
    }


def _login_form(
    request: Request,
    *,
    next_path: str,
    email: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return templates.TemplateResponse(
        request,
        "staff/login.html",
        {
            "title": "Error: Sign in" if errors else "Sign in",
            "csrf": csrf_token(request),
            "next": next_path,
            "email": email,
            "errors": errors or {},
        },
        status_code=status_code,
    )


async def login_page(request: Request) -> Response:
    return _login_form(request, next_path=request.query_params.get("next", ""))


def _safe_next(value: str) -> str | None:
    # Only local paths: never redirect a signed-in user to another site.
    return value if value.startswith("/") and not value.startswith("//") else None


# What to say for each field left empty, in the order the form asks.
MISSING = {"email": "Enter your email address", "password": "Enter your password"}
LABELS = {"email": "Email address", "password": "Password"}


async def login(request: Request) -> Response:
    form = await check_csrf(request, refuse=False)
    email = form.kept().get("email", "").strip()
    # A `next` holding a NUL is dropped, never redirected to; only the fields shown are named.
    next_path = "" if "next" in form.refused else form.get("next", "")
    missing = {name: text for name, text in MISSING.items() if not form.get(name, "").strip()}
    refused = {name: text for name, text in form.errors(LABELS).items() if name in LABELS}
    if errors := missing | refused:
        return _login_form(
            request, next_path=next_path, email=email, errors=errors, status_code=422
        )

    async def check(session: AsyncSession) -> StaffUser | None:
        try:
            return await authenticate_password(
                session, email=email, password=form.get("password", "")
            )
        except Unauthenticated:
            return None

    user = await run_in_transaction(request, check)
    if user is None:
        return _login_form(
            request,
            next_path=next_path,
            email=email,
            errors={"email": "Enter a correct email address and password"},
            status_code=401,
        )
    request.session.clear()
    request.session["user_id"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    target = _safe_next(next_path) or HOME_FOR_ROLE[Role(user.role)]
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
