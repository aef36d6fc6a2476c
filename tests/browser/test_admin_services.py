"""An admin changes a service in the browser: found from the header, a bad value caught with
the error summary linking to its field, then saved; every page free of serious and critical
axe violations."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.harness import Served, axe_violations, screenshot, sign_in

pytestmark = pytest.mark.slow

SEVERE = ("serious", "critical")


async def test_an_admin_edits_a_service(page: Page, served: Served) -> None:
    found: list[str] = []

    async def check(name: str) -> None:
        await screenshot(page, served, f"admin-{name}")
        found.extend(f"{name}: {v}" for v in await axe_violations(page, SEVERE))

    await sign_in(page, served, "admin")
    link = page.locator("nav.nhsuk-header__navigation a", has_text="Services")
    if not await link.is_visible():  # moved under "More" when the header is full
        await page.click("#toggle-menu")
    async with page.expect_navigation():
        await link.click()
    assert await page.locator("h1").inner_text() == "Services"
    await check("services")
    async with page.expect_navigation():
        await page.locator("table a").first.click()
    heading = await page.locator("h1").inner_text()
    assert heading.startswith("Change ")
    await check("service-form")

    await page.fill("#change_notice_hours", "a day")
    async with page.expect_navigation():
        await page.click("button:has-text('Save changes')")
    assert (await page.title()).startswith("Error: ")
    summary_link = page.locator(".nhsuk-error-summary a[href='#change_notice_hours']")
    assert await summary_link.inner_text() == "Enter the notice for changes in hours"
    await check("service-form-error")
    await summary_link.click()
    assert await page.evaluate("document.activeElement.id") == "change_notice_hours"
    assert await page.input_value("#change_notice_hours") == "a day"  # what was typed, kept

    await page.fill("#change_notice_hours", "24")
    await page.fill("#phone", "01524 65944")
    async with page.expect_navigation():
        await page.click("button:has-text('Save changes')")
    assert "/staff/admin/services?updated=" in page.url
    assert "changes are saved" in await page.locator("main").inner_text()
    assert "01524 65944" in await page.locator("table").inner_text()
    async with page.expect_navigation():
        await page.locator("table a", has_text=heading.removeprefix("Change ")).click()
    assert await page.input_value("#change_notice_hours") == "24"
    assert found == []


async def test_the_user_and_site_pages_pass_axe(page: Page, served: Served) -> None:
    found: list[str] = []
    await sign_in(page, served, "admin")
    for name, path in [
        ("users", "/staff/admin/users"),
        ("sites", "/staff/admin/sites"),
        ("hub", f"/staff/admin/sites/{served.hub_id}"),
        ("user-new", "/staff/admin/users/new"),
    ]:
        await page.goto(served.url(path))
        await screenshot(page, served, f"admin-{name}")
        found.extend(f"{name}: {v}" for v in await axe_violations(page, SEVERE))
    async with page.expect_navigation():
        await page.click("button:has-text('Add the user')")  # empty: the error summary
    assert (await page.title()).startswith("Error: ")
    found.extend(f"user-errors: {v}" for v in await axe_violations(page, SEVERE))
    await page.goto(served.url("/staff/admin/users"))
    async with page.expect_navigation():
        await page.locator("table a", has_text="Test reception").click()
    await screenshot(page, served, "admin-user-edit")
    found.extend(f"user-edit: {v}" for v in await axe_violations(page, SEVERE))
    assert found == []
