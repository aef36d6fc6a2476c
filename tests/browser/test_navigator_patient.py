"""A care navigator in a real browser: finds a patient by NHS number, opens them, moves an
appointment to another day and time, and rebooks one that leave now falls over with a single
click; their details form with an error is checked too. Every page has no serious or critical
axe violation, and is photographed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.slots import to_london
from telehealth.kernel.auth.service import create_user
from tests.browser.harness import (
    PASSWORD,
    PageWatch,
    Served,
    axe_violations,
    screenshot,
    server_of_its_own,
    sign_in,
)
from tests.builders import make_clinic, tuesday_at
from tests.builders_navpatients import make_booked, make_leave

if TYPE_CHECKING:
    from tests.conftest import Databases

pytestmark = pytest.mark.slow
SEVERE = ("serious", "critical")
NARROW = {"width": 320, "height": 800}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def served(request: pytest.FixtureRequest, databases: Databases) -> AsyncIterator[Served]:
    """A server of its own: a navigator, a patient with an NHS number booked in two weeks, and
    another patient's appointment that leave falls over, three weeks ahead."""

    async def fill(session: AsyncSession) -> None:
        await create_user(
            session,
            email=Served.email("navigator"),
            name="Test navigator",
            role="navigator",
            password=PASSWORD,
        )
        await make_booked(session)
        clinic = await make_clinic(session)
        clashing = await make_booked(
            session, clinic=clinic, nhs_number=None, start=tuesday_at(9, weeks=3)
        )
        await make_leave(session, clashing.clinic, tuesday_at(9, weeks=3), hours=3)

    async with server_of_its_own(request, databases, fill) as server:
        yield server.served


async def _checked(page: Page, served: Served, name: str) -> list[object]:
    await screenshot(page, served, f"navigator-patient-{name}")
    return [(name, v) for v in await axe_violations(page, SEVERE)]


async def _go(page: Page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def test_a_navigator_finds_a_patient_by_nhs_number_and_moves_their_appointment(
    page: Page, served: Served
) -> None:
    found: list[object] = []
    await sign_in(page, served, "navigator")
    await _go(page, "nav.nhsuk-header__navigation a:has-text('Patients')")
    assert await page.locator("h1").inner_text() == "Find a patient"
    found += await _checked(page, served, "find")
    await _go(page, "button:has-text('Find patient')")  # nothing typed: the error summary
    assert (await page.title()).startswith("Error: ")
    found += await _checked(page, served, "find-errors")
    await page.fill("#nhs_number", "943 476 5919")
    await _go(page, "button:has-text('Find patient')")
    found += await _checked(page, served, "found")
    await _go(page, "a:has-text('Alex Atkinson')")
    assert await page.locator("h1").inner_text() == "Alex Atkinson"
    found += await _checked(page, served, "patient")
    before = to_london(tuesday_at(9))
    assert f"{before.day} {before:%B %Y} at 9am" in await page.locator("main").inner_text()

    await _go(page, "a:has-text('Change their contact details and needs')")
    found += await _checked(page, served, "edit")
    await page.fill("#email", "")
    await _go(page, "button:has-text('Save changes')")
    assert (await page.title()).startswith("Error: ")
    found += await _checked(page, served, "edit-errors")
    await page.go_back()
    await page.go_back()

    await page.reload()
    await _go(page, "main a:has-text('Move')")
    assert await page.locator("h1").inner_text() == "Move the appointment: how and which day?"
    found += await _checked(page, served, "move-days")
    await _go(page, "main ul.nhsuk-list a >> nth=0")
    found += await _checked(page, served, "move-times")
    await page.locator("input[name=slot]").first.check()
    label = await page.locator("label[for=slot]").inner_text()
    await _go(page, "button:has-text('Move appointment')")
    assert await page.locator("h1").inner_text() == "Alex Atkinson"
    text = await page.locator("main").inner_text()
    assert "The appointment has been moved." in text
    day_and_month, clock = label.split(", ")
    assert day_and_month.split(" ", 1)[1] in text and clock in text
    found += await _checked(page, served, "moved")
    assert found == []


async def test_a_navigator_rebooks_with_one_click(page: Page, served: Served) -> None:
    found: list[object] = []
    await sign_in(page, served, "navigator")
    await _go(page, "nav.nhsuk-header__navigation a:has-text('To rebook')")
    assert await page.locator("h1").inner_text() == "To rebook"
    found += await _checked(page, served, "to-rebook")
    button = page.locator("main button:has-text('Move to')").first
    words = (await button.inner_text()).removeprefix("Move to ")
    await _go(page, "main button:has-text('Move to') >> nth=0")
    text = await page.locator("main").inner_text()
    assert "No appointments to rebook." in text
    day_and_month, clock = words.split(", ")
    assert day_and_month in text and clock in text
    found += await _checked(page, served, "rebooked")
    assert found == []


async def _too_wide(page: Page, served: Served, name: str) -> list[str]:
    await screenshot(page, served, f"navigator-patient-{name}-320")
    wide = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    return [name] if wide else []


async def test_the_pages_fit_a_screen_320_pixels_wide(browser: Browser, served: Served) -> None:
    context = await browser.new_context(viewport=NARROW)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = await context.new_page()
    watch = PageWatch(page, served.base)
    await sign_in(page, served, "navigator")
    wide: list[str] = []
    await page.goto(served.url("/staff/patients"))
    wide += await _too_wide(page, served, "find")
    await page.fill("#nhs_number", "943 476 5919")
    await _go(page, "button:has-text('Find patient')")
    wide += await _too_wide(page, served, "found")
    await _go(page, "main a:has-text('Alex Atkinson')")
    wide += await _too_wide(page, served, "patient")
    patient = page.url
    await _go(page, "a:has-text('Change their contact details and needs')")
    wide += await _too_wide(page, served, "edit")
    await page.goto(patient)
    await _go(page, "main a:has-text('Move') >> nth=0")
    wide += await _too_wide(page, served, "move-days")
    await _go(page, "main ul.nhsuk-list a >> nth=0")
    wide += await _too_wide(page, served, "move-times")
    await page.goto(patient)
    await _go(page, "main a:has-text('Cancel') >> nth=0")
    wide += await _too_wide(page, served, "cancel")
    await page.goto(served.url("/staff/to-rebook"))
    wide += await _too_wide(page, served, "to-rebook")
    await context.close()
    assert not watch.errors, f"the page's scripts failed: {watch.errors}"
    assert wide == []
