"""Every page writes dates and times the NHS way (9:05am, midday, "Tuesday 3 March 2026"),
never the 24-hour clock or ISO dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import outbox
from notifications.models import OutboxMessage
from scheduling.slots import london_datetime
from telehealth.kernel.config import Settings
from telehealth.kernel.web.templating import NHSUK_DIST, TEMPLATES
from telehealth.video.pages import join_path
from tests.builders import make_appointment, make_clinic, make_user, next_weekday
from tests.telehealth.travel.test_report_page import QUERY, _appointments
from tests.telehealth.video.test_clinic_pages import sign_in

TWENTY_FOUR_HOUR = re.compile(r"\b[0-2]\d:[0-5]\d\b")


def _visible(page: str) -> str:
    """The page's text as people read it: no scripts, styles, tags or attribute values."""
    page = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return " ".join(re.sub(r"<[^>]*>", " ", page).split())


def test_no_template_formats_a_time_itself() -> None:
    """Times go through the filters (telehealth.kernel.timefmt), so no page can drift back to
    strftime's 24-hour clock."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert "strftime" not in text, template
        assert "%H" not in text, template


async def test_clinic_and_reception_tables(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_clinic(session)
    day = next_weekday(1, weeks=2)
    clinician_user, _ = await make_user(session, role="clinician")
    c.clinician.user_id = clinician_user.id
    waiting = await make_appointment(session, c, start=london_datetime(day, time(9, 5)))
    waiting.status, waiting.checked_in_at = "checked-in", london_datetime(day, time(8, 50))
    hub = await make_appointment(
        session, c, start=london_datetime(day, time(12)), mode="video_site"
    )
    hub.status, hub.arrived_at = "arrived", london_datetime(day, time(11, 45))
    await session.flush()

    await sign_in(client, clinician_user.email)
    page = _visible((await client.get(f"/staff/clinic?date={day.isoformat()}")).text)
    assert f"on {day:%A} {day.day} {day:%B %Y}" in page
    assert "9:05am" in page and "since 8:50am" in page and "midday" in page
    assert not TWENTY_FOUR_HOUR.search(page), TWENTY_FOUR_HOUR.findall(page)

    reception, _ = await make_user(session, role="reception", hubs=[c.hub])
    other = httpx.AsyncClient(transport=client._transport, base_url="http://test")
    await sign_in(other, reception.email)
    desk = await other.get(f"/staff/reception?site_id={c.hub.id}&date={day.isoformat()}")
    await other.aclose()
    page = _visible(desk.text)
    assert "midday" in page and "arrived 11:45am" in page
    assert not TWENTY_FOUR_HOUR.search(page), TWENTY_FOUR_HOUR.findall(page)


async def test_join_page(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_clinic(session)
    start = london_datetime(date(2030, 3, 5), time(14, 30))  # a Tuesday
    a = await make_appointment(session, c, start=start)
    page = _visible((await client.get(join_path(settings, a))).text)
    assert "Tuesday 5 March 2030 at 2:30pm" in page
    assert settings.join_window_minutes == 30
    assert "You can join from 2pm on Tuesday 5 March 2030" in page
    assert not TWENTY_FOUR_HOUR.search(page), TWENTY_FOUR_HOUR.findall(page)


async def test_outbox_pages(client: httpx.AsyncClient, session: AsyncSession) -> None:
    message = outbox.NewMessage(
        dedupe_key="times",
        kind="confirmation",
        channel="email",
        recipient="p@example.com",
        message_id="<times@x.invalid>",
        subject="Subject",
        body_text="Body",
    )
    await outbox.enqueue(session, [message])
    await session.execute(
        update(OutboxMessage).values(
            created_at=datetime(2026, 3, 3, 9, 30, tzinfo=UTC),
            next_attempt_at=datetime(2026, 3, 3, 12, tzinfo=UTC),
            sent_at=datetime(2026, 3, 3, 0, 0, tzinfo=UTC),
        )
    )
    user, _ = await make_user(session, role="admin")
    await sign_in(client, user.email)
    page = _visible((await client.get("/staff/outbox")).text)
    assert "Tuesday 3 March 2026 at 9:30am" in page
    assert "Due Tuesday 3 March 2026 at midday" in page
    assert not TWENTY_FOUR_HOUR.search(page), TWENTY_FOUR_HOUR.findall(page)
    row_id = re.search(r'href="/staff/outbox/(\d+)"', (await client.get("/staff/outbox")).text)
    assert row_id
    await session.execute(update(OutboxMessage).values(status="sent"))
    detail = _visible((await client.get(f"/staff/outbox/{row_id.group(1)}")).text)
    assert "sent Tuesday 3 March 2026 at midnight" in detail


async def test_travel_report_dates(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await _appointments(session)
    analyst, _ = await make_user(session, role="analyst")
    await sign_in(client, analyst.email)
    page = _visible((await client.get(f"/staff/reports/travel?{QUERY}")).text)
    assert "Wednesday 1 May 2030 to Wednesday 31 July 2030" in page
    assert "2030-05-01" not in page
    assert re.search(r"(Sunday|Monday) 6 April 20\d\d", page)  # the factor sets' start


async def test_the_icon_browsers_ask_for_is_there(client: httpx.AsyncClient) -> None:
    if not NHSUK_DIST.exists():
        pytest.skip("NHS.UK frontend is not installed (npm ci): pages go without its assets")
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    page = (await client.get("/")).text
    for href in re.findall(r'<link rel="icon" href="([^"]+)"', page):
        assert (await client.get(href)).status_code == 200, href
