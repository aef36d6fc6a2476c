"""Browser tests: the app in a real uvicorn process on a migrated database (SQLite and
PostgreSQL), filled with builder data, driven by headless Chromium through Playwright.

One server per database serves every browser test (starting one costs seconds); each test gets
a fresh browser context, so no cookie or state leaks from one test to the next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import time, timedelta
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, Page, async_playwright
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import outbox
from notifications.models import OutboxMessage
from scheduling.slots import london_datetime, to_london
from telehealth.kernel.auth.models import Role
from telehealth.kernel.auth.service import create_user
from telehealth.kernel.db import utcnow
from telehealth.video.join import make_token
from tests.browser.harness import DESKTOP, PASSWORD, PageWatch, Served, launch, server_of_its_own
from tests.builders import make_appointment, make_clinic, make_patient, next_weekday
from tests.servers import SECRET_KEY
from tests.telehealth.video.test_join_pages import soon

if TYPE_CHECKING:
    from tests.conftest import Databases


# The day of the clinician's booking that leave in tests/browser/test_clinician_leave.py meets.
LEAVE_CLASH_DAY = next_weekday(1, weeks=2)


async def _fill(session: AsyncSession) -> dict[str, int | str]:
    """A user per role, a clinician's day of appointments in every state, a patient's join
    link for today, and messages in the outbox (one of them failed)."""
    users = {
        role: await create_user(
            session, email=Served.email(role), name=f"Test {role}", role=role, password=PASSWORD
        )
        for role in Role
    }
    clinic = await make_clinic(session)
    clinic.clinician.user_id = users[Role.CLINICIAN].id
    day = to_london(utcnow()).date()
    interpreter = await make_patient(session, family_name="Featherstonehaugh-Wolstenholme")
    interpreter.interpreter_language = "Polish"
    day_list: list[tuple[time, str, str]] = [
        (time(9), "video_home", "booked"),
        (time(9, 30), "video_home", "checked-in"),
        (time(10), "video_site", "arrived"),
        (time(10, 30), "in_person", "booked"),
        (time(11), "video_home", "fulfilled"),
    ]
    for n, (at, mode, status) in enumerate(day_list):
        appointment = await make_appointment(
            session,
            clinic,
            start=london_datetime(day, at),
            mode=mode,
            status=status,
            patient=interpreter if n == 0 else None,
        )
        if status == "checked-in":
            appointment.checked_in_at = appointment.starts_at - timedelta(minutes=3)
    # A booking two weeks ahead in the clinician's Tuesday session: leave over it clashes.
    await make_appointment(session, clinic, start=london_datetime(LEAVE_CLASH_DAY, time(10)))
    # Another clinician's appointment in a few minutes: its join link is open (or nearly).
    elsewhere = await make_clinic(session)
    joining = await make_appointment(session, elsewhere, start=soon())
    await outbox.enqueue(
        session,
        [
            outbox.NewMessage(
                dedupe_key=f"browser-{n}",
                kind="confirmation",
                channel="email",
                recipient=f"patient{n}@example.com",
                message_id=f"<browser-{n}@test.invalid>",
                subject=f"Your video appointment {n}",
                body_text=f"Dear patient {n},\nyour appointment is booked.",
            )
            for n in range(2)
        ],
    )
    failed = await session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == "browser-1")
    )
    assert failed is not None
    failed.attempts = outbox.MAX_ATTEMPTS
    await outbox.mark_failed(session, failed, "SMTP 550: mailbox unavailable", permanent=True)
    return {
        "join_path": "/join/"
        + make_token(SECRET_KEY, appointment_id=joining.id, sequence=joining.sequence),
        "hub_id": clinic.hub.id,
        "message_id": failed.id,
    }


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        found = await launch(playwright)
        yield found
        await found.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def served(request: pytest.FixtureRequest, databases: Databases) -> AsyncIterator[Served]:
    async with server_of_its_own(request, databases, _fill) as server:
        ids = server.filled
        yield replace(
            server.served,
            join_path=str(ids["join_path"]),
            message_id=int(ids["message_id"]),
            hub_id=int(ids["hub_id"]),
        )


@pytest.fixture
async def page(browser: Browser, served: Served) -> AsyncIterator[Page]:
    """A page in a browser context of its own (no cookies yet), at desktop width."""
    context = await browser.new_context(viewport=DESKTOP)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)  # a missing element fails in seconds, not half a minute
    opened = await context.new_page()
    watch = PageWatch(opened, served.base)
    yield opened
    await context.close()
    assert not watch.errors, f"the page's scripts failed: {watch.errors}"
