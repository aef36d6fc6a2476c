"""The patient's booking journey in a real browser: opening the invitation's link (one as the
worker process delivered it, taken out of the delivered message), choosing video at a
community hub and booking, with the mouse at desktop width and by keyboard alone at
390 px; then changing a booked appointment from its manage link; axe-core on every page (no
serious or critical violations); screenshots of each."""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, time
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.referral_booking import Choice, book_from_referral
from scheduling.slots import london_datetime
from telehealth.messaging.patient_links import booking_token, manage_token
from tests.browser.harness import (
    DESKTOP,
    PHONE,
    PageWatch,
    Served,
    axe_violations,
    server_of_its_own,
)
from tests.browser.harness import screenshot as take_screenshot
from tests.builders import make_clinic, make_patient, next_weekday
from tests.builders_journey import with_travel
from tests.builders_referrals import make_referral
from tests.conftest import TEST_SETTINGS
from tests.servers import SECRET_KEY

if TYPE_CHECKING:
    from tests.conftest import Databases

pytestmark = pytest.mark.slow

SEVERE = ("serious", "critical")
SETTINGS = TEST_SETTINGS.__class__(environment="test", secret_key=SECRET_KEY)


@dataclass(frozen=True)
class Journeys:
    served: Served
    hub: str
    links: dict[str, str]  # one booking link per test: a referral books once


def _deliver_invitation(url: str, base: str, out: Path, referral_id: int) -> str:
    """Run the worker as its own process (as `make run` does), delivering into `out` as .eml
    files; the booking link in the referral's delivered invitation, exactly as written."""
    env = {k: v for k, v in os.environ.items() if k != "SMTP_HOST"} | {
        "DATABASE_URL": url,
        "TELEHEALTH_ENV": "test",
        "SECRET_KEY": SECRET_KEY,
        "PUBLIC_BASE_URL": base,
        "OUTBOX_DIR": str(out),
    }
    worker = subprocess.run(
        [sys.executable, "-m", "telehealth.cli", "worker", "--once"],
        cwd=out.parent, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr
    [delivered] = out.glob(f"referral{referral_id}.invitation.email.*.eml")
    message = email.message_from_bytes(delivered.read_bytes())
    [text] = [part for part in message.walk() if part.get_content_type() == "text/plain"]
    assert isinstance(text, Message)
    body = text.get_payload(decode=True)
    assert isinstance(body, bytes)
    links: set[str] = set(re.findall(re.escape(base) + r"/book/[^\s\"'<>]+", body.decode()))
    assert len(links) == 1, links
    return links.pop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def journeys(
    request: pytest.FixtureRequest, databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Journeys]:

    async def fill(session: AsyncSession) -> tuple[dict[str, str], int, str]:
        links = {}
        clinic = await make_clinic(session)
        for name in ("mouse", "keyboard"):
            patient = await make_patient(session, family_name=f"Browser-{name}")
            await with_travel(session, clinic, patient)
            referral = await make_referral(session, clinic=clinic, patient=patient)
            token = booking_token(SETTINGS, referral.id, issued_on=date.today())
            links[name] = f"/book/{token}"
        patient = await make_patient(session, family_name="Browser-change")
        await with_travel(session, clinic, patient)
        referral = await make_referral(session, clinic=clinic, patient=patient)
        start = london_datetime(next_weekday(1, weeks=3), time(11))
        booked = await book_from_referral(
            session,
            referral_id=referral.id,
            choice=Choice(clinic.clinician.id, "video_site", clinic.hub.id, start),
        )
        token = manage_token(SETTINGS, booked.id, issued_on=date.today())
        links["change"] = f"/manage/{token}/change"
        invited = await make_patient(session, family_name="Browser-invited")
        await with_travel(session, clinic, invited)
        to_invite = (await make_referral(session, clinic=clinic, patient=invited)).id
        return links, to_invite, clinic.hub.name

    async with server_of_its_own(request, databases, fill) as server:
        links, to_invite, hub = server.filled
        out = tmp_path_factory.mktemp(f"delivered-{request.param}") / "outbox"
        served = server.served
        links["delivered"] = _deliver_invitation(server.database_url, served.base, out, to_invite)
        yield Journeys(served, hub, links)


@pytest.fixture
async def journey_page(browser: Browser, journeys: Journeys) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    opened = await context.new_page()
    watch = PageWatch(opened, journeys.served.base)
    yield opened
    await context.close()
    assert not watch.errors, f"the page's scripts failed: {watch.errors}"


class Walk:
    """Checks each page it reaches: axe, a screenshot, and (on a phone) nothing wider than
    the screen."""

    def __init__(self, page: Page, served: Served, name: str, *, width: int | None = None):
        self.page, self.served, self.name, self.width = page, served, name, width
        self.problems: list[str] = []

    async def check(self, step: str) -> None:
        await take_screenshot(self.page, self.served, f"{self.name}-{step}")
        self.problems += [f"{step}: {v}" for v in await axe_violations(self.page, SEVERE)]
        if self.width is not None:
            wide = await self.page.evaluate("document.documentElement.scrollWidth")
            if wide > self.width:
                self.problems.append(f"{step}: {wide}px wide on a {self.width}px screen")

    async def heading(self) -> str:
        return (await self.page.locator("h1").first.inner_text()).strip()


async def _book_at_the_hub(page: Page, walk: Walk, hub: str) -> None:
    """From "How would you like to be seen?": video at `hub`, its first day and time, to the
    confirmation."""
    await page.check("input[name=mode][value=video_site]")
    await page.click("button:has-text('Continue')")
    assert await walk.heading() == "Which community hub?"
    await walk.check("hub")
    await page.check(f"label:has-text('{hub}')")
    await page.click("button:has-text('Continue')")
    await walk.check("day")
    await page.locator("input[name=day]").first.check()
    await page.click("button:has-text('Continue')")
    await walk.check("time")
    label = await page.locator(".nhsuk-radios__label").first.inner_text()
    assert "," in label and ("am" in label or "pm" in label or "midday" in label)
    await page.locator("input[name=slot]").first.check()
    await page.click("button:has-text('Continue')")
    await walk.check("details")
    await page.check("input[name=companion][value=no]")
    await page.click("button:has-text('Continue')")
    await walk.check("check")
    await page.click("button:has-text('Book appointment')")
    assert await page.locator(".nhsuk-panel").inner_text() != ""
    assert "Appointment booked" in await page.locator(".nhsuk-panel").inner_text()
    assert hub in await page.content()
    await walk.check("booked")


async def test_book_from_the_delivered_invitation(journey_page: Page, journeys: Journeys) -> None:
    """The link as the worker process wrote it into the delivered email, opened as it is."""
    page, served = journey_page, journeys.served
    walk = Walk(page, served, "book-delivered")
    await page.goto(journeys.links["delivered"])
    assert (await walk.heading()).startswith("Book your")
    await walk.check("start")
    await page.click("text=Start now")
    assert await walk.heading() == "How would you like to be seen?"
    await walk.check("how")
    await _book_at_the_hub(page, walk, journeys.hub)
    assert walk.problems == []


async def test_book_video_at_a_hub(journey_page: Page, journeys: Journeys) -> None:
    page, served = journey_page, journeys.served
    walk = Walk(page, served, "book-mouse")
    await page.goto(served.url(journeys.links["mouse"]))
    assert (await walk.heading()).startswith("Book your")
    await walk.check("start")
    await page.click("text=Start now")
    await walk.check("how")
    await page.click("button:has-text('Continue')")  # nothing chosen: the error summary
    assert (await page.title()).startswith("Error: How would you like to be seen?")
    await walk.check("how-error")
    await _book_at_the_hub(page, walk, journeys.hub)
    # Refreshing the confirmation, or going back and booking again, books nothing more.
    await page.go_back()
    await page.reload()
    assert "Appointment booked" in await page.content() or "/manage/" in page.url
    assert walk.problems == []


async def _tab_to(page: Page, selector: str, *, presses: int = 60) -> None:
    """Tab forward until `selector` has the focus, as a keyboard user would."""
    for _ in range(presses):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


async def _continue(page: Page) -> None:
    await _tab_to(page, "button.nhsuk-button")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def test_book_by_keyboard_alone_on_a_phone(journey_page: Page, journeys: Journeys) -> None:
    page, served = journey_page, journeys.served
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    walk = Walk(page, served, "book-keyboard", width=PHONE["width"])
    await page.goto(served.url(journeys.links["keyboard"]))
    await walk.check("start")
    await _tab_to(page, "a.nhsuk-button")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await walk.check("how")
    await _tab_to(page, "input[name=mode]")  # the first way: video from home
    await page.keyboard.press("ArrowDown")  # the next: video at a hub (arrows select)
    assert await page.is_checked("input[name=mode][value=video_site]")
    await _continue(page)
    await walk.check("hub")
    await _tab_to(page, "input[name=site_id]")
    await page.keyboard.press("Space")
    await _continue(page)
    await walk.check("day")
    await _tab_to(page, "input[name=day]")
    await page.keyboard.press("Space")
    await _continue(page)
    await walk.check("time")
    await _tab_to(page, "input[name=slot]")
    await page.keyboard.press("Space")
    await _continue(page)
    await walk.check("details")
    await _tab_to(page, "input[name=companion]")
    await page.keyboard.press("Space")
    await _continue(page)
    await walk.check("check")
    await _continue(page)
    assert "Appointment booked" in await page.locator(".nhsuk-panel").inner_text()
    await walk.check("booked")
    assert walk.problems == []


async def test_change_how_and_when(journey_page: Page, journeys: Journeys) -> None:
    """From the manage link: what to change, how, the day, the time, check, changed."""
    page, served = journey_page, journeys.served
    walk = Walk(page, served, "change")
    await page.goto(served.url(journeys.links["change"]))
    assert await walk.heading() == "What would you like to change?"
    await walk.check("what")
    await page.check("input[name=change][value=how]")
    await page.click("button:has-text('Continue')")
    await walk.check("how")
    await page.check("input[name=mode][value=video_home]")
    await page.click("button:has-text('Continue')")
    await walk.check("day")
    await page.locator("input[name=day]").first.check()
    await page.click("button:has-text('Continue')")
    await walk.check("time")
    await page.locator("input[name=slot]").first.check()
    await page.click("button:has-text('Continue')")
    assert await walk.heading() == "Check your answers before changing your appointment"
    await walk.check("check")
    await page.click("button:has-text('Change appointment')")
    assert "Appointment changed" in await page.locator(".nhsuk-panel").inner_text()
    assert "Video call from home" in await page.content()
    await walk.check("done")
    assert walk.problems == []
