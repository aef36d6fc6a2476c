"""A clinician adds leave over a booked appointment in the browser: the page shows the clash
before saving and asks; added anyway, the week shows it. Every page free of serious and
critical axe violations, and the week fits a phone's width."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.conftest import LEAVE_CLASH_DAY
from tests.browser.harness import Served, axe_violations, screenshot, sign_in

pytestmark = pytest.mark.slow

SEVERE = ("serious", "critical")


async def test_a_clinician_adds_leave_and_sees_the_clash(page: Page, served: Served) -> None:
    found: list[str] = []

    async def check(name: str) -> None:
        await screenshot(page, served, f"leave-{name}")
        found.extend(f"{name}: {v}" for v in await axe_violations(page, SEVERE))

    await sign_in(page, served, "clinician")
    async with page.expect_navigation():
        await page.locator("nav.nhsuk-header__navigation a", has_text="Availability").click()
    await page.goto(served.url(f"/staff/availability?week={LEAVE_CLASH_DAY.isoformat()}"))
    week = await page.locator("main").inner_text()
    assert "9am to midday" in week and "Booked (1)" in week
    await check("week")

    async with page.expect_navigation():
        await page.click("text=Add leave")
    await check("form")
    await page.fill("#start-day", str(LEAVE_CLASH_DAY.day))
    await page.fill("#start-month", str(LEAVE_CLASH_DAY.month))
    await page.fill("#start-year", str(LEAVE_CLASH_DAY.year))
    await page.fill("#start_time", "9:30am")
    await page.fill("#end_time", "11am")
    await page.fill("#reason", "Training")
    async with page.expect_navigation():
        await page.click("button:has-text('Continue')")
    heading = await page.locator("h1").inner_text()
    assert heading == "This leave falls over 1 booked appointment", await page.locator(
        "main"
    ).inner_text()
    assert "10am" in await page.locator("table").inner_text()
    await check("clash")

    async with page.expect_navigation():
        await page.click("button:has-text('Add the leave anyway')")
    week = await page.locator("main").inner_text()
    assert "Your leave is added." in week and "9:30am to 11am: Training" in week
    await check("week-with-leave")

    for kind in ("weekly", "one_off"):
        await page.goto(served.url(f"/staff/availability/sessions?kind={kind}"))
        await check(f"session-form-{kind}")

    await page.goto(served.url(f"/staff/availability?week={LEAVE_CLASH_DAY.isoformat()}"))
    await page.set_viewport_size({"width": 320, "height": 800})
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 320, f"the week is {wide}px wide on a 320px screen"
    assert found == []
