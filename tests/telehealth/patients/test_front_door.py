"""The root URL is the patient's front door: join, manage, find, whom to phone, staff sign-in."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_site
from tests.builders_manage import HUB_PHONE, SERVICE_PHONE, make_managed_clinic


async def test_the_front_door_says_how_to_join_manage_find_and_whom_to_phone(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_managed_clinic(session)
    closed = await make_site(session, kind="community_hub", name="Closed hub")
    closed.phone, closed.active = "0113 496 0999", False
    await session.flush()
    page = await client.get("/")
    assert page.status_code == 200
    html = " ".join(page.text.split())
    assert "<title>Your video and hub appointments" in html
    assert "Join a video appointment" in html and "Use the link in the email or text" in html
    assert "Manage your appointment" in html
    assert 'href="/find-appointment"' in html
    assert 'href="/staff/login"' in html and "Staff sign in" in html
    assert c.service.name in html and SERVICE_PHONE in html
    assert "Morecambe video hub" in html and HUB_PHONE in html
    assert 'href="tel:01134960101"' in html
    assert "Closed hub" not in html and "0113 496 0999" not in html


async def test_a_service_without_its_own_number_gives_its_usual_site_s(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_managed_clinic(session)
    c.service.phone, c.hospital.phone = None, "0113 496 0303"
    await session.flush()
    html = " ".join((await client.get("/")).text.split())
    assert c.service.name in html and "0113 496 0303" in html
