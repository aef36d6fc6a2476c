"""The admin's site pages: a new site added through the API's own create (audited, its rooms
made, each bad value named and kept, a duplicate name a conflict), details saved through the
API's own rules (a bad postcode named on the form), a hub given another video room, and a
room closed for a period, the bookings it falls over shown first and the closure saved only
when confirmed."""

from __future__ import annotations

from datetime import date, time

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import RoomClosure, Site, VideoRoom
from scheduling.slots import london_datetime
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.auth.models import StaffUser
from telehealth.travel.models import Postcode
from tests.builders import (
    make_appointment,
    make_clinic,
    make_organisation,
    make_user,
    next_weekday,
)
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
    return (await signed_in_admin(session, client))[1]


async def signed_in_admin(
    session: AsyncSession, client: httpx.AsyncClient
) -> tuple[StaffUser, str]:
    """An admin, signed in: them and the form's CSRF token (the service pages' tests too)."""
    admin, _ = await make_user(session, role="admin")
    return admin, await sign_in(client, admin.email)


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
    assert (await client.get(f"{PATH}/new")).status_code == 403
    assert (
        await client.post(f"{PATH}/{clinic.hub.id}/rooms", data={"csrf": csrf})
    ).status_code == 403
    new = _new_site(clinic.organisation.id, csrf, name="Reception's own hub")
    assert (await client.post(f"{PATH}/new", data=new)).status_code == 403


def _new_site(organisation_id: int, csrf: str, **changes: str) -> dict[str, str]:
    values = {
        "csrf": csrf,
        "organisation_id": str(organisation_id),
        "kind": "community_hub",
        "name": "Heysham Community Hub",
        "address": "Heysham Library, Middleton Way",
        "postcode": "la3 2lb",
        "icc": "Morecambe Bay",
        "directions": "Ground floor, past the library desk",
        "phone": "01524 855544",
        "video_rooms": "2",
    }
    return values | changes


async def test_an_admin_adds_a_hub_with_its_rooms_and_the_creation_is_audited(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation, (admin, csrf) = (
        await make_organisation(session),
        await signed_in_admin(session, client),
    )
    listing = await client.get(PATH)
    assert f'href="{PATH}/new"' in listing.text and "Add a site" in listing.text
    blank = await client.get(f"{PATH}/new")
    assert blank.status_code == 200 and "<title>Add a site" in blank.text
    assert "Back to sites" in blank.text and "There is a problem" not in blank.text
    added = await client.post(f"{PATH}/new", data=_new_site(organisation.id, csrf))
    assert added.status_code == 303, added.text
    site = await session.scalar(select(Site).where(Site.name == "Heysham Community Hub"))
    assert site is not None and added.headers["location"] == f"{PATH}/{site.id}?done=created"
    assert (site.postcode, site.kind, site.phone) == ("LA3 2LB", "community_hub", "01524 855544")
    assert site.directions == "Ground floor, past the library desk"
    rooms = await session.scalar(
        select(func.count()).select_from(VideoRoom).where(VideoRoom.site_id == site.id)
    )
    assert rooms == 2
    by = AuditEvent.actor_user_id
    created = (AuditEvent.action == "site.create", AuditEvent.entity_id == site.id)
    assert await session.scalar(select(by).where(*created)) == admin.id
    page = await client.get(added.headers["location"])
    assert "The site is added." in page.text and "Change Heysham Community Hub" in page.text
    # No postcode table rows in the test database: the page says travel cannot be estimated.
    assert "no coordinates for LA3 2LB" in page.text


async def test_the_site_page_finds_its_postcode_in_the_postcode_table(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    session.add(
        Postcode(postcode=clinic.hub.postcode, easting=1, northing=2, quality=10, source="test")
    )
    await session.flush()
    await _signed_in_admin(session, client)
    page = await client.get(f"{PATH}/{clinic.hub.id}")
    assert page.status_code == 200 and "no coordinates" not in page.text


async def test_a_new_sites_bad_values_are_named_and_kept(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    csrf = await _signed_in_admin(session, client)
    empty = await client.post(f"{PATH}/new", data={"csrf": csrf, "video_rooms": "two"})
    assert empty.status_code == 422 and "<title>Error: Add a site" in empty.text
    for target in ("organisation_id", "kind", "name", "postcode", "video_rooms"):
        assert empty.text.count(f'href="#{target}"') == 1, target
    assert 'value="two"' in empty.text
    typed = _new_site(organisation.id, csrf, postcode="LA99 ZZZZ", phone="12345")
    bad = await client.post(f"{PATH}/new", data=typed)
    assert bad.status_code == 422
    assert "Postcode is not a valid UK postcode" in bad.text and 'href="#postcode"' in bad.text
    assert 'href="#phone"' in bad.text and 'value="LA99 ZZZZ"' in bad.text
    assert "Ground floor, past the library desk" in bad.text
    hospital = _new_site(organisation.id, csrf, kind="hospital")
    rooms = await client.post(f"{PATH}/new", data=hospital)
    assert rooms.status_code == 422 and "Only a community hub has video rooms" in rooms.text
    # PostgreSQL cannot store a NUL: refused, naming the field, rather than a 500.
    nul = await client.post(f"{PATH}/new", data=_new_site(organisation.id, csrf, directions="\x00"))
    assert nul.status_code == 422 and "Directions: must not contain a NUL" in nul.text
    many = await client.post(f"{PATH}/new", data=_new_site(organisation.id, csrf, video_rooms="99"))
    assert many.status_code == 422 and "Video rooms must be 50 or less" in many.text
    assert await session.scalar(select(func.count()).select_from(Site)) == 0


async def test_a_second_site_of_the_same_name_is_a_conflict_named_on_the_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    csrf = await _signed_in_admin(session, client)
    again = await client.post(
        f"{PATH}/new", data=_new_site(clinic.organisation.id, csrf, name=clinic.hub.name)
    )
    assert again.status_code == 409 and 'href="#name"' in again.text
    assert "already exists" in again.text
