"""The admin's clinician pages: add and change clinicians through the API's own rules, refusals
named on the form, the bookings a deactivation leaves listed; only admins."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Clinician
from tests.builders import book_via_service, make_clinic, make_patient, make_user, tuesday_at
from tests.telehealth.video.test_clinic_pages import sign_in

PATH = "/staff/admin/clinicians"


async def _admin(session: AsyncSession, client: httpx.AsyncClient) -> str:
    admin, _ = await make_user(session, role="admin")
    return await sign_in(client, admin.email)


async def test_an_admin_adds_a_clinician_and_a_bad_email_is_named(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    csrf = await _admin(session, client)
    assert (await client.get(f"{PATH}/new")).status_code == 200
    form = {
        "csrf": csrf,
        "organisation_id": str(clinic.organisation.id),
        "name": "Dr Ada Nwosu",
        "profession": "Consultant cardiologist",
        "email": "not-an-email",
    }
    bad = await client.post(f"{PATH}/new", data=form)
    assert (
        bad.status_code == 422
        and 'href="#email"' in bad.text
        and 'value="Dr Ada Nwosu"' in bad.text
    )
    added = await client.post(f"{PATH}/new", data={**form, "email": "Ada.Nwosu@nhs.net"})
    assert added.status_code == 303, added.text
    found = await session.scalar(select(Clinician).where(Clinician.email == "ada.nwosu@nhs.net"))
    assert found is not None and found.name == "Dr Ada Nwosu"
    again = await client.post(f"{PATH}/new", data={**form, "email": "ada.nwosu@nhs.net"})
    assert again.status_code == 409 and "already" in again.text
    missing = await client.post(f"{PATH}/new", data={"csrf": csrf})
    assert missing.status_code == 422 and 'href="#organisation_id"' in missing.text


async def test_deactivating_a_clinician_lists_their_bookings_to_rebook(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    booked = await book_via_service(
        session, clinic, tuesday_at(9), patient_id=(await make_patient(session)).id
    )
    csrf = await _admin(session, client)
    c = clinic.clinician
    form = {
        "csrf": csrf,
        "name": c.name,
        "profession": c.profession,
        "email": c.email,
        "active": "no",
    }
    shown = await client.post(f"{PATH}/{c.id}", data=form)
    assert shown.status_code == 200 and booked.reference in shown.text
    await session.refresh(c)
    assert c.active is False
    renamed = await client.post(
        f"{PATH}/{c.id}", data={**form, "name": "Dr Renamed", "active": "no"}
    )
    assert renamed.status_code == 303
    await session.refresh(c)
    assert c.name == "Dr Renamed"


async def test_only_admins_use_the_clinician_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_clinic(session)
    navigator, _ = await make_user(session, role="navigator")
    await sign_in(client, navigator.email)
    assert (await client.get(PATH)).status_code == 403
