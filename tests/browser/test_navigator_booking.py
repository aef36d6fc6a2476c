"""A care navigator in a real browser books a new appointment on a patient's behalf: finds
them by NHS number, opens their page, books a video call at a community hub (each way of
being seen showing the patient's travel), and sees it on the patient's page. Every page,
an error page among them, has no serious or critical axe violation, and is photographed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Page

from telehealth.kernel.auth.service import create_user
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.browser.harness import (
    PASSWORD,
    ROOT,
    PageWatch,
    Served,
    axe_violations,
    screenshot,
    sign_in,
)
from tests.builders import make_clinic, make_patient
from tests.builders_journey import with_travel
from tests.servers import running_servers

if TYPE_CHECKING:
    from tests.conftest import Databases

pytestmark = pytest.mark.slow
SEVERE = ("serious", "critical")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def served(request: pytest.FixtureRequest, databases: Databases) -> AsyncIterator[Served]:
    """A server of its own: a navigator, a clinic, and a patient in Barrow with no bookings."""
    if not databases.available(request.param):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    url = await databases.migrated(request.param)
    engine = create_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await create_user(
            session,
            email=Served.email("navigator"),
            name="Test navigator",
            role="navigator",
            password=PASSWORD,
        )
        clinic = await make_clinic(session)
        patient = await make_patient(session, nhs_number="9434765919", family_name="Atkinson")
        await with_travel(session, clinic, patient)
        hub_id = clinic.hub.id
    await engine.dispose()
    with running_servers(url, ROOT, count=1) as (base,):
        yield Served(dialect=request.param, base=base, join_path="", message_id=0, hub_id=hub_id)


async def _checked(page: Page, served: Served, name: str) -> list[object]:
    await screenshot(page, served, f"navigator-booking-{name}")
    return [(name, v) for v in await axe_violations(page, SEVERE)]


async def _go(page: Page, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def test_a_navigator_books_video_at_a_hub_for_a_patient(page: Page, served: Served) -> None:
    watch = PageWatch(page, served.base)
    found: list[object] = []
    await sign_in(page, served, "navigator")
    await _go(page, "nav.nhsuk-header__navigation a:has-text('Patients')")
    await page.fill("#nhs_number", "943 476 5919")
    await _go(page, "button:has-text('Find patient')")
    await _go(page, "main a:has-text('Alex Atkinson')")
    assert await page.locator("h1").inner_text() == "Alex Atkinson"
    await _go(page, "main a:has-text('Book an appointment')")

    assert await page.locator("h1").inner_text() == "Which service is the appointment for?"
    found += await _checked(page, served, "service")
    await _go(page, "button:has-text('Continue')")  # nothing chosen: the error summary
    assert (await page.title()).startswith("Error: ")
    found += await _checked(page, served, "service-error")
    await page.locator("input[name=service]").first.check()
    await _go(page, "button:has-text('Continue')")

    assert await page.locator("h1").inner_text() == "How will they be seen?"
    text = await page.locator("main").inner_text()
    assert "No travel" in text and "Nearest hub:" in text
    found += await _checked(page, served, "how")
    await page.check("input[value=video_site]")
    await _go(page, "button:has-text('Continue')")

    assert await page.locator("h1").inner_text() == "Which community hub?"
    found += await _checked(page, served, "hub")
    await page.check(f"input[name=hub][value='{served.hub_id}']")
    await _go(page, "button:has-text('Continue')")

    assert await page.locator("h1").inner_text() == "Which day?"
    found += await _checked(page, served, "day")
    await page.locator("input[name=day]").first.check()
    await _go(page, "button:has-text('Continue')")

    assert (await page.locator("h1").inner_text()).startswith("Which time on ")
    found += await _checked(page, served, "time")
    await page.locator("input[name=slot]").first.check()
    label = await page.locator("label[for=slot]").inner_text()
    await _go(page, "button:has-text('Continue')")

    assert await page.locator("h1").inner_text() == "Check the appointment before booking it"
    found += await _checked(page, served, "check")
    await _go(page, "button:has-text('Book appointment')")

    assert "Appointment booked" in await page.locator("main").inner_text()
    reference = await page.locator(".nhsuk-panel strong").inner_text()
    found += await _checked(page, served, "booked")
    await _go(page, "main a:has-text('Back to Alex Atkinson')")
    text = await page.locator("main").inner_text()
    day_and_month, clock = label.split(", ")
    assert reference in text and "Video call at" in text
    assert day_and_month.split(" ", 1)[1] in text and clock in text
    found += await _checked(page, served, "patient")
    assert not watch.errors, f"the page's scripts failed: {watch.errors}"
    assert found == []
