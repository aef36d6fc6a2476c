"""A patient in the browser, no login: the front door, the manage page their link opens,
cancelling with a reason, and finding the appointment again without the link (the fresh link
the lookup queues, rendered as the worker renders it, opens the appointment). Every page is
checked with axe and photographed, at desktop and phone width."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import OutboxMessage
from scheduling.models import Appointment
from telehealth import messaging
from telehealth.kernel.config import Settings
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.messaging.patient_links import manage_token
from tests.browser.harness import (
    DESKTOP,
    PHONE,
    PageWatch,
    Served,
    axe_violations,
    screenshot,
    server_of_its_own,
)
from tests.builders import make_clinic, tuesday_at
from tests.builders_manage import make_managed, make_managed_clinic, make_patient_with
from tests.servers import SECRET_KEY

if TYPE_CHECKING:
    from tests.conftest import Databases

pytestmark = pytest.mark.slow
SEVERE = ("serious", "critical")
BORN = date(1957, 11, 3)
STRICT_PHONE = "0113 496 0199"


@dataclass(frozen=True)
class Patients:
    served: Served
    url: str  # the database, to read what the pages queued
    to_cancel: tuple[str, str]  # manage paths of appointments to cancel (desktop, phone)
    hub_path: str  # the manage path of a hub appointment inside its notice period
    reference: str  # the booking reference of an appointment to find
    hub_name: str  # where the hub appointment is


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def patients(request: pytest.FixtureRequest, databases: Databases) -> AsyncIterator[Patients]:
    async def fill(session: AsyncSession) -> tuple[tuple[int, int], int, str, str]:
        c = await make_managed_clinic(session)
        mary = await make_patient_with(session, born=BORN, email="mary@example.com")
        home = await make_managed(session, c, start=tuesday_at(9, 20), patient=mary)
        other = await make_managed(session, c, start=tuesday_at(9, 40), patient=mary)
        # Another service, taking no online changes in its last four weeks: a hub appointment.
        strict = await make_clinic(session)
        strict.service.change_notice_minutes = 60 * 24 * 28
        strict.service.phone = STRICT_PHONE
        hub = await make_managed(session, strict, start=tuesday_at(10), mode="video_site")
        found = await make_managed(session, c, start=tuesday_at(11), patient=mary)
        return (home.id, other.id), hub.id, found.reference, strict.hub.name

    def path(appointment_id: int) -> str:
        return f"/manage/{manage_token(_settings(''), appointment_id, issued_on=date.today())}"

    async with server_of_its_own(request, databases, fill) as server:
        ids = server.filled
        yield Patients(
            served=server.served,
            url=server.database_url,
            to_cancel=(path(ids[0][0]), path(ids[0][1])),
            hub_path=path(ids[1]),
            reference=ids[2],
            hub_name=ids[3],
        )


def _settings(base: str) -> Settings:
    return Settings(environment="test", secret_key=SECRET_KEY, public_base_url=base or "http://x")


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
async def patient_page(
    request: pytest.FixtureRequest, browser: Browser, patients: Patients
) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=request.param)
    context.set_default_timeout(10_000)
    opened = await context.new_page()
    watch = PageWatch(opened, patients.served.base)
    yield opened
    await context.close()
    assert not watch.errors, f"the page's scripts failed: {watch.errors}"


async def _checked(page: Page, patients: Patients, name: str) -> list[str]:
    width = page.viewport_size["width"] if page.viewport_size else 0
    await screenshot(page, patients.served, f"patient-{name}-{width}")
    overflow = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    found = [f"{name}: wider than the screen"] if overflow else []
    return found + [f"{name}: {v}" for v in await axe_violations(page, SEVERE)]


async def test_the_front_door_leads_to_finding_an_appointment(
    patient_page: Page, patients: Patients
) -> None:
    page = patient_page
    await page.goto(patients.served.url("/"))
    found = await _checked(page, patients, "front-door")
    assert await page.get_by_role("link", name="Staff sign in").count() == 1
    async with page.expect_navigation():
        await page.get_by_role("link", name="Find your appointment").click()
    assert page.url.endswith("/find-appointment")
    assert found == []


async def test_a_patient_opens_their_link_and_cancels_with_a_reason(
    patient_page: Page, patients: Patients
) -> None:
    page = patient_page
    phone = page.viewport_size == PHONE
    await page.goto(patients.served.url(patients.to_cancel[phone]))
    found = await _checked(page, patients, "manage")
    assert await page.get_by_role("heading", name="Your appointment").count() == 1
    assert await page.get_by_text("9:40am" if phone else "9:20am").count() >= 1
    async with page.expect_navigation():
        await page.get_by_role("link", name="Cancel this appointment").click()
    found += await _checked(page, patients, "cancel")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Cancel appointment").click()  # no reason yet
    assert (await page.title()).startswith("Error: ")
    found += await _checked(page, patients, "cancel-errors")
    await page.get_by_role("link", name="Select why you are cancelling").click()
    assert await page.evaluate("document.activeElement.id") == "reason"
    await page.get_by_role("radio", name="Another reason").check()
    why = page.get_by_label("If it is another reason, tell us why")
    await why.fill("Moving away from the area")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Cancel appointment").click()
    assert page.url.endswith("/cancelled")
    assert await page.get_by_role("heading", name="Appointment cancelled").count() == 1
    found += await _checked(page, patients, "cancelled")
    engine = create_engine(patients.url)
    async with make_sessionmaker(engine)() as session:
        reasons = set(await session.scalars(select(Appointment.cancel_reason)))
    await engine.dispose()
    assert "Cancelled online: Moving away from the area" in reasons
    assert found == []


async def test_inside_the_notice_period_the_page_says_whom_to_phone(
    patient_page: Page, patients: Patients
) -> None:
    page = patient_page
    await page.goto(patients.served.url(patients.hub_path))
    found = await _checked(page, patients, "manage-notice")
    assert await page.get_by_text(f"To change or cancel, phone {STRICT_PHONE}.").count() == 1
    assert await page.get_by_role("link", name="Cancel this appointment").count() == 0
    assert await page.get_by_text(patients.hub_name).count() >= 1
    await page.goto(patients.served.url("/manage/not-a-real-link"))
    found += await _checked(page, patients, "link-problem")
    assert await page.get_by_role("heading", name="This link does not work").count() == 1
    assert found == []


async def test_a_patient_who_lost_the_link_is_sent_a_fresh_one(
    patient_page: Page, patients: Patients
) -> None:
    page = patient_page
    await page.goto(patients.served.url("/find-appointment"))
    found = await _checked(page, patients, "find")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Continue").click()
    found += await _checked(page, patients, "find-errors")
    await page.get_by_role("link", name="Enter your booking reference").click()
    assert await page.evaluate("document.activeElement.id") == "reference"
    await page.get_by_label("Booking reference").fill(patients.reference.lower())
    await page.get_by_label("Day").fill(str(BORN.day))
    await page.get_by_label("Month").fill(str(BORN.month))
    await page.get_by_label("Year").fill(str(BORN.year))
    await page.get_by_label("Postcode").fill("la4 5rj")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Continue").click()
    assert page.url.endswith("/find-appointment/sent")
    assert await page.get_by_text("mary@example.com").count() == 0
    found += await _checked(page, patients, "find-sent")
    engine = create_engine(patients.url)
    async with make_sessionmaker(engine)() as session:
        message = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "lost_link")
                .order_by(OutboxMessage.id.desc())
            )
        ).first()
        assert message is not None and message.recipient == "mary@example.com"
        rendered = await messaging.render(
            session, message, settings=_settings(patients.served.base)
        )
    await engine.dispose()
    link = re.search(r"(http://127\.0\.0\.1:\d+/manage/[A-Za-z0-9_.-]+)", rendered.body_text)
    assert link, rendered.body_text
    await page.goto(link.group(1))
    assert await page.get_by_text(patients.reference).count() == 1
    assert found == []
