"""A navigator records referrals in a real browser: a new patient first, then a referral for
that patient found again by NHS number; each page has no serious or critical axe violation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.async_api import Page

from tests.browser.harness import Served, axe_violations, screenshot, sign_in

pytestmark = pytest.mark.slow

SEVERE = ("serious", "critical")
NHS_NUMBER = "943 476 5870"


async def _checked(page: Page, served: Served, name: str) -> list[object]:
    await screenshot(page, served, f"referral-{name}")
    return [(name, v) for v in await axe_violations(page, SEVERE)]


async def _continue(page: Page, text: str = "Continue") -> None:
    async with page.expect_navigation():
        await page.click(f"button:has-text('{text}')")


async def _referral_details(page: Page) -> None:
    see_by = date.today() + timedelta(days=21)
    await page.select_option("#service_id", index=1)
    await page.check("#priority-2")  # urgent
    await page.fill("#see_by-day", str(see_by.day))
    await page.fill("#see_by-month", str(see_by.month))
    await page.fill("#see_by-year", str(see_by.year))
    await page.fill("#notes", "Palpitations on exertion")
    await page.check("#video_suitable")
    await page.check("#interpreter-2")
    await page.check("#companion-2")
    await page.check("#contact_preference")


async def test_a_navigator_records_a_referral_for_a_patient_found_by_nhs_number(
    page: Page, served: Served
) -> None:
    found: list[object] = []
    await sign_in(page, served, "navigator")
    assert page.url.endswith("/staff/worklist")
    found += await _checked(page, served, "worklist")
    async with page.expect_navigation():
        await page.click("a:has-text('Record a referral')")
    found += await _checked(page, served, "find")
    # Nobody yet: a new patient, registered with their NHS number.
    await page.fill("#nhs_number", NHS_NUMBER)
    await _continue(page, "Find patient")
    if await page.locator("#patient_id-2").count() == 0:  # the first run on this database
        await page.check("#patient_id")
        await _continue(page)
        await page.fill("#given_name", "Nora")
        await page.fill("#family_name", "Nightingale")
        await page.fill("#date_of_birth-day", "12")
        await page.fill("#date_of_birth-month", "5")
        await page.fill("#date_of_birth-year", "1951")
        await page.fill("#nhs_number", NHS_NUMBER)
        await _referral_details(page)
        await page.fill("#email", "nora@example.com")
        await _continue(page)
        await _continue(page, "Record referral")
        assert await page.locator("h1").inner_text() == "Referral recorded"
        await page.goto(served.url("/staff/referrals/new"))
        await page.fill("#nhs_number", NHS_NUMBER)
        await _continue(page, "Find patient")
    found += await _checked(page, served, "choose")
    assert "Nora Nightingale" in await page.locator("#main-content, main").inner_text()
    await page.check("#patient_id")  # the patient found
    await _continue(page)
    found += await _checked(page, served, "details")
    await _continue(page)  # nothing chosen yet: the error summary, each error linked
    assert (await page.title()).startswith("Error: ")
    found += await _checked(page, served, "details-errors")
    await page.click(".nhsuk-error-summary a[href='#priority']")
    await _referral_details(page)
    await _continue(page)
    assert await page.locator("h1").inner_text() == "Check the referral before recording it"
    found += await _checked(page, served, "check")
    await _continue(page, "Record referral")
    assert await page.locator("h1").inner_text() == "Referral recorded"
    panel = await page.locator(".nhsuk-panel").inner_text()
    assert "Referral reference" in panel
    assert "by email" in await page.locator("main").inner_text()
    found += await _checked(page, served, "recorded")
    async with page.expect_navigation():
        await page.click("a:has-text('View the referral')")
    found += await _checked(page, served, "referral")
    assert found == []


async def test_the_navigator_pages_fit_a_320px_phone(page: Page, served: Served) -> None:
    await page.set_viewport_size({"width": 320, "height": 640})
    await sign_in(page, served, "navigator")

    async def fits(name: str) -> None:
        await screenshot(page, served, f"phone-referral-{name}")
        widths = [
            await page.evaluate("document.documentElement.scrollWidth"),
            await page.evaluate("document.body.scrollWidth"),
        ]
        assert max(widths) <= 320, (name, widths)

    await fits("worklist")
    await page.goto(served.url("/staff/referrals/new"))
    await fits("find")
    await page.fill("#family_name", "Nobody-At-All")
    await page.fill("#date_of_birth-day", "1")
    await page.fill("#date_of_birth-month", "1")
    await page.fill("#date_of_birth-year", "1950")
    await _continue(page, "Find patient")
    await fits("choose")
    await page.check("input[value='new']")
    await _continue(page)
    await fits("details")
