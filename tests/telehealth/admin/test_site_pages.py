"""The admin's site pages: details saved through the API's own rules (a bad postcode named on
the form), a hub given another video room, and a room closed for a period, the bookings it
falls over shown first and the closure saved only when confirmed."""

from __future__ import annotations

from datetime import date, time

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import RoomClosure, Site, VideoRoom
from scheduling.slots import london_datetime
from tests.builders import make_appointment, make_clinic, make_user, next_weekday
from tests.telehealth.video.test_clinic_pages import sign_in

PATH = "/staff/admin/sites"
DAY = next_weekday(1, weeks=2)


def _date(name: str, day: date) -> dict[str, str]:
    return {
        f"{name}[day]": str(day.day),
        f"{name}[month]": str(day.month),
        f"{name}[year]": str(day.year),
    }


def _details(site: Site, csrf: str, **changes: str) -> dict[str, str]:
    values = {
        "csrf": csrf,
        "name": site.name,
        "address": site.address,
        "postcode": site.postcode,
        "icc": site.icc or "",
        "directions": site.directions or "",
        "phone": site.phone or "",
        "active": "yes",
    }
    return values | changes


async def _signed_in_admin(session: AsyncSession, client: httpx.AsyncClient) -> str:
    admin, _ = await make_user(session, role="admin")
    return await sign_in(client, admin.email)


async def test_an_admin_changes_a_hubs_directions_and_a_bad_postcode_is_named(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    csrf = await _signed_in_admin(session, client)
    listing = await client.get(PATH)
    assert listing.status_code == 200 and clinic.hub.name in listing.text
    path = f"{PATH}/{clinic.hub.id}"
    saved = await client.post(
        path,
        data=_details(
            clinic.hub, csrf, directions="Side entrance, first floor", phone="01524 65944"
        ),
    )
    assert saved.status_code == 303, saved.text
    await session.refresh(clinic.hub)
    assert (clinic.hub.directions, clinic.hub.phone) == (
        "Side entrance, first floor",
        "01524 65944",
    )
    bad = await client.post(path, data=_details(clinic.hub, csrf, postcode="LA99 ZZZZ"))
    assert bad.status_code == 422 and 'href="#postcode"' in bad.text
    assert "Postcode is not a valid UK postcode" in bad.text and 'value="LA99 ZZZZ"' in bad.text


async def test_a_hub_gets_another_room_and_a_closure_over_a_booking_asks_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    csrf = await _signed_in_admin(session, client)
    base = f"{PATH}/{clinic.hub.id}"
    added = await client.post(f"{base}/rooms", data={"csrf": csrf})
    assert added.status_code == 303
    names = list(
        await session.scalars(select(VideoRoom.name).where(VideoRoom.site_id == clinic.hub.id))
    )
    assert names[-1] == f"Video room {len(names)}"
    booked = await make_appointment(
        session, clinic, start=london_datetime(DAY, time(10)), mode="video_site"
    )
    form = {
        "csrf": csrf,
        "room_id": str(booked.room_id),
        **_date("from", DAY),
        "from_time": "9am",
        **_date("until", DAY),
        "until_time": "1pm",
        "reason": "Decorating",
    }
    asked = await client.post(f"{base}/closures", data=form)
    assert asked.status_code == 200 and booked.reference in asked.text
    assert await session.scalar(select(func.count()).select_from(RoomClosure)) == 0
    done = await client.post(f"{base}/closures", data={**form, "confirm": "yes"})
    assert done.status_code == 303
    closure = (await session.scalars(select(RoomClosure))).one()
    assert (closure.starts_at, closure.ends_at) == (
        london_datetime(DAY, time(9)),
        london_datetime(DAY, time(13)),
    )
    page = await client.get(done.headers["location"])
    assert "The room is closed for that period." in page.text and "Decorating" in page.text


async def test_a_closure_that_ends_before_it_starts_is_named(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    csrf = await _signed_in_admin(session, client)
    room = await session.scalar(select(VideoRoom.id).where(VideoRoom.site_id == clinic.hub.id))
    bad = await client.post(
        f"{PATH}/{clinic.hub.id}/closures",
        data={
            "csrf": csrf,
            "room_id": str(room),
            **_date("from", DAY),
            "from_time": "1pm",
            **_date("until", DAY),
            "until_time": "9am",
        },
    )
    assert bad.status_code == 422 and 'href="#until-day"' in bad.text
    missing = await client.post(f"{PATH}/{clinic.hub.id}/closures", data={"csrf": csrf})
    assert missing.status_code == 422
    for target in ("room_id", "from-day", "from_time", "until-day", "until_time"):
        assert f'href="#{target}"' in missing.text


async def test_only_admins_use_the_site_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    reception, _ = await make_user(session, role="reception", hubs=[clinic.hub])
    csrf = await sign_in(client, reception.email)
    assert (await client.get(PATH)).status_code == 403
    assert (
        await client.post(f"{PATH}/{clinic.hub.id}/rooms", data={"csrf": csrf})
    ).status_code == 403
