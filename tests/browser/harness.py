"""Driving the real app in headless Chromium: launching it, signing in, axe, screenshots.

The browser is Debian's Chromium (`apt-get install chromium`), driven by Python Playwright;
Playwright's own browser download is never used. Screenshots land in var/screenshots/, named
after the test and the database, for a person to look at.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import urlencode

import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
)
from sqlalchemy.ext.asyncio import AsyncSession

from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.servers import running_servers

if TYPE_CHECKING:
    from tests.conftest import Databases

T = TypeVar("T")

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Only the app on loopback: other hosts (NHS.UK frontend's fonts) fail at once instead of
    # waiting on DNS, so pages load as fast as the app answers.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
NHSUK_JS = ROOT / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk" / "nhsuk-frontend.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def require(path: Path, what: str, install: str) -> None:
    """Locally a missing browser or asset skips with the reason; in CI it fails the run."""
    if path.exists():
        return
    reason = f"browser tests need {what} at {path} ({install})"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


async def launch(playwright: Playwright) -> Browser:
    require(CHROMIUM, "Chromium", "apt-get install -y chromium chromium-driver")
    require(AXE, "axe-core", "make install runs npm ci")
    require(NHSUK_JS, "NHS.UK frontend", "make install runs npm ci")
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True
    )


@dataclass(frozen=True)
class Served:
    """One running app server over a database filled with the pages' test data."""

    dialect: str
    base: str
    join_path: str = ""
    message_id: int = 0
    hub_id: int = 0

    def url(self, path: str) -> str:
        return self.base + path

    @staticmethod
    def email(role: str) -> str:
        return f"{role}@browser.test"


@dataclass(frozen=True)
class Server(Generic[T]):
    """A server of a test module's own: where it answers, its database, what filled it."""

    served: Served
    database_url: str
    filled: T


@asynccontextmanager
async def server_of_its_own(
    request: pytest.FixtureRequest,
    databases: Databases,
    fill: Callable[[AsyncSession], Awaitable[T]],
) -> AsyncIterator[Server[T]]:
    """One app server on a freshly migrated database of the fixture's dialect
    (`request.param`), filled first by `fill` in one committed transaction; skipped where
    that database is not available."""
    if not databases.available(request.param):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    url = await databases.migrated(request.param)
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            filled = await fill(session)
    finally:
        await engine.dispose()
    with running_servers(url, ROOT, count=1) as (base,):
        yield Server(Served(dialect=request.param, base=base), url, filled)


class PageWatch:
    """Collects what would break a page for its user: an uncaught script error, a console
    error, or one of the app's own files failing to load. Other sites' files (NHS.UK
    frontend's fonts come from assets.nhs.uk) cannot load here and are not counted."""

    def __init__(self, page: Page, origin: str) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"script error: {error}"))
        page.on("console", self._console)
        page.on("response", lambda response: self._response(response, origin))
        page.on("requestfailed", lambda request: self._failed(request, origin))

    def _console(self, message: ConsoleMessage) -> None:
        # Loading failures are judged from the responses themselves, below.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def _failed(self, request: Request, origin: str) -> None:
        # Leaving a page aborts what it still had open (a screen's live event stream).
        if request.url.startswith(origin) and request.failure != "net::ERR_ABORTED":
            self.errors.append(f"failed ({request.failure}): {request.url}")

    def _response(self, response: Response, origin: str) -> None:
        # A page answering 403 or 404 is often the point of a test; its files must still load.
        if (
            response.url.startswith(origin)
            and response.status >= 400
            and response.request.resource_type != "document"
        ):
            self.errors.append(f"{response.status}: {response.url}")


async def sign_in(page: Page, served: Served, role: str, *, next_path: str = "") -> None:
    """Through the login form, as a person would."""
    query = f"?{urlencode({'next': next_path})}" if next_path else ""
    await page.goto(served.url("/staff/login" + query))
    await page.fill("#email", served.email(role))
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("button:has-text('Sign in')")
    assert "/staff/login" not in page.url, f"{role} could not sign in"


async def screenshot(page: Page, served: Served, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}-{served.dialect}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def axe_violations(page: Page, impacts: tuple[str, ...]) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA and best-practice violations of the given impacts."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',
                                            'wcag22aa', 'best-practice']},
            resultTypes: ['violations'],
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]
