"""An admin adds a site, then a service held there, in the browser: each form found from its
list, an empty form answered with the error summary linking to its first field, what was typed
kept, and every page free of serious and critical axe violations.

The site is a hospital with no sessions, so the pages the later browser tests use (hubs,
slots, travel options) are as they were."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.harness import Served, axe_violations, screenshot, sign_in

pytestmark = pytest.mark.slow

SEVERE = ("serious", "critical")
SITE = "Zeta Hospital (browser test)"
SERVICE = "Zeta clinic (browser test)"


async def test_an_admin_adds_a_site_then_a_service_there(page: Page, served: Served) -> None:
    found: list[str] = []

    async def check(name: str) -> None:
        await screenshot(page, served, f"admin-{name}")
        found.extend(f"{name}: {v}" for v in await axe_violations(page, SEVERE))

    async def submit(text: str) -> None:
        async with page.expect_navigation():
            await page.click(f"button:has-text('{text}')")

    await sign_in(page, served, "admin")
    await page.goto(served.url("/staff/admin/sites"))
    async with page.expect_navigation():
        await page.click("a:has-text('Add a site')")
    assert await page.locator("h1").inner_text() == "Add a site"
    await check("site-new")

    await page.fill("#name", SITE)
    await submit("Add the site")
    assert (await page.title()).startswith("Error: ")
    first = page.locator(".nhsuk-error-summary a").first
    assert await first.get_attribute("href") == "#organisation_id"
    await check("site-new-errors")
    await first.click()
    assert await page.evaluate("document.activeElement.id") == "organisation_id"
    assert await page.input_value("#name") == SITE  # what was typed, kept

    await page.select_option("#organisation_id", index=1)
    await page.check("input[name='kind'][value='hospital']")
    await page.fill("#address", "Ashton Road, Lancaster")
    await page.fill("#postcode", "la1 4rp")
    await page.fill("#directions", "Main entrance, outpatients on the left")
    await page.fill("#phone", "01524 65944")
    await submit("Add the site")
    assert await page.locator("h1").inner_text() == f"Change {SITE}"
    assert "The site is added." in await page.locator("main").inner_text()
    assert await page.input_value("#postcode") == "LA1 4RP"
    await check("site-added")

    await page.goto(served.url("/staff/admin/services"))
    async with page.expect_navigation():
        await page.click("a:has-text('Add a service')")
    assert await page.locator("h1").inner_text() == "Add a service"
    await check("service-new")
    await page.select_option("#organisation_id", index=1)
    await page.fill("#name", SERVICE)
    await page.fill("#specialty", "Cardiology")
    await page.fill("#length_minutes", "half an hour")
    await page.check("input[name='modes'][value='in_person']")
    await page.select_option("#usual_site_id", label=SITE)
    await submit("Add the service")
    summary_link = page.locator(".nhsuk-error-summary a[href='#length_minutes']")
    assert await summary_link.inner_text() == "Enter the appointment length in minutes"
    await check("service-new-errors")
    assert await page.input_value("#name") == SERVICE

    await page.fill("#length_minutes", "30")
    await submit("Add the service")
    assert "/staff/admin/services?created=" in page.url
    assert "The service is added." in await page.locator("main").inner_text()
    row = page.locator("table tr", has_text=SERVICE)
    assert SITE in await row.inner_text()
    await check("service-added")
    assert found == []
