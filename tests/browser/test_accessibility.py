"""axe-core, injected into each page as the browser shows it, at desktop width.

Every page must be free of serious and critical violations (WCAG 2.x A and AA, and axe's best
practices). The pages whose markup lives in the kernel (sign-in, messages, a message, the join
page, the error pages) must be free of every violation, minor ones included.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.harness import Served, axe_violations, screenshot, sign_in

pytestmark = pytest.mark.slow

SEVERE = ("serious", "critical")
ANY = ("minor", "moderate", *SEVERE)


async def _check(page: Page, served: Served, name: str, impacts: tuple[str, ...]) -> list[str]:
    await screenshot(page, served, f"axe-{name}")
    return [f"{name}: {v}" for v in await axe_violations(page, impacts)]


async def test_patient_and_sign_in_pages(page: Page, served: Served) -> None:
    found = []
    for name, path in {
        "join": served.join_path,
        "login": "/staff/login",
        "not-found": "/docs",
    }.items():
        await page.goto(served.url(path))
        found += await _check(page, served, name, ANY)
    await page.goto(served.url("/staff/login"))
    async with page.expect_navigation():
        await page.click("button:has-text('Sign in')")  # empty: the error summary
    found += await _check(page, served, "login-errors", ANY)
    assert found == []


async def test_staff_pages(page: Page, served: Served) -> None:
    found = []
    await sign_in(page, served, "navigator")
    for name, path, impacts in [
        ("outbox", "/staff/outbox", ANY),
        ("outbox-message", f"/staff/outbox/{served.message_id}", ANY),
        ("travel-report", "/staff/reports/travel", SEVERE),
        ("reception", f"/staff/reception?site_id={served.hub_id}", SEVERE),
    ]:
        await page.goto(served.url(path))
        found += await _check(page, served, name, impacts)
    await page.context.clear_cookies()
    await sign_in(page, served, "clinician")  # their own clinic, with its day of appointments
    found += await _check(page, served, "clinic", SEVERE)
    await page.context.clear_cookies()
    await sign_in(page, served, "analyst")
    await page.goto(served.url("/staff/outbox"))
    found += await _check(page, served, "forbidden", ANY)
    assert found == []
