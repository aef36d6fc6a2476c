"""The travel record from the clinic and reception screens in a real browser: a row's link opens
the appointment's record, free of serious or critical axe violations, and its back link returns
to the screen as it was; on a database of its own with travel records worked out (the shared
browser data has none)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import StaffSite
from telehealth.kernel.auth.models import Role
from telehealth.kernel.auth.service import create_user
from telehealth.travel import records
from tests.browser.harness import (
    DESKTOP,
    PASSWORD,
    PHONE,
    PageWatch,
    Served,
    axe_violations,
    screenshot,
    server_of_its_own,
    sign_in,
)
from tests.builders import make_appointment, make_clinic, make_patient
from tests.builders_journey import with_travel
from tests.telehealth.video.test_join_pages import soon

if TYPE_CHECKING:
    from tests.conftest import Databases

pytestmark = pytest.mark.slow

SEVERE = ("serious", "critical")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def travelled(request: pytest.FixtureRequest, databases: Databases) -> AsyncIterator[Served]:
    """A clinician's clinic today with one appointment at its hub, its record worked out, and a
    receptionist at that hub."""

    async def fill(session: AsyncSession) -> int:
        clinic = await make_clinic(session)
        patient = await make_patient(session, family_name="Travelled")
        await with_travel(session, clinic, patient)
        a = await make_appointment(
            session, clinic, start=soon(), mode="video_site", patient=patient
        )
        await records.compute(session, a.id)
        users = {
            role: await create_user(session, email=Served.email(role), name=f"Test {role}",
                                    role=role, password=PASSWORD)
            for role in (Role.CLINICIAN, Role.RECEPTION)
        }  # fmt: skip
        clinic.clinician.user_id = users[Role.CLINICIAN].id
        session.add(StaffSite(user_id=users[Role.RECEPTION].id, site_id=clinic.hub.id))
        return clinic.hub.id

    async with server_of_its_own(request, databases, fill) as server:
        yield replace(server.served, hub_id=server.filled)


@asynccontextmanager
async def _signed_in(
    browser: Browser, travelled: Served, role: str, viewport: dict[str, int]
) -> AsyncIterator[Page]:
    """A page in a context of its own at this size, signed in as `role`; its scripts and
    files must not fail."""
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = await context.new_page()
    watch = PageWatch(page, travelled.base)
    try:
        await sign_in(page, travelled, role)
        yield page
    finally:
        await context.close()
    assert not watch.errors, f"the page's scripts failed: {watch.errors}"


async def _follow(page: Page, travelled: Served, screen: str, name: str) -> None:
    """From `screen`, the row's travel record, then back to the screen as it was."""
    await page.goto(travelled.url(screen))
    # Its name says whose record it is, for a screen reader going through the links.
    link = page.get_by_role("link", name=re.compile(r"^Travel record for Alex Travelled at \d"))
    assert await link.count() == 1
    await screenshot(page, travelled, f"{name}-from")
    async with page.expect_navigation():
        await link.click()
    record = page.locator("#travel-record")
    assert await record.is_visible()
    text = await record.inner_text()
    assert "there and back to" in text and "confidence" in text
    await screenshot(page, travelled, name)
    assert await axe_violations(page, SEVERE) == []
    async with page.expect_navigation():
        await page.click("a.nhsuk-back-link")
    asked, back = urlsplit(travelled.url(screen)), urlsplit(page.url)
    assert back.path == asked.path
    kept = parse_qs(back.query)
    assert all(kept.get(k) == v for k, v in parse_qs(asked.query).items()), page.url
    assert await page.locator("#live-table a[data-travel]").count() == 1


async def test_a_clinician_reads_a_row_s_travel_record_and_returns_to_the_clinic(
    browser: Browser, travelled: Served
) -> None:
    async with _signed_in(browser, travelled, Role.CLINICIAN, DESKTOP) as page:
        await _follow(page, travelled, "/staff/clinic?status=not_arrived", "clinic-travel-record")


async def test_reception_reads_it_too_and_it_fits_a_phone(
    browser: Browser, travelled: Served
) -> None:
    async with _signed_in(browser, travelled, Role.RECEPTION, PHONE) as page:
        screen = f"/staff/reception?site_id={travelled.hub_id}"
        await _follow(page, travelled, screen, "phone-reception-travel-record")
        async with page.expect_navigation():
            await page.click("#live-table a[data-travel]")
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
