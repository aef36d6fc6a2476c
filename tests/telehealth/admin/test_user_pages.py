"""The admin's user pages: add a login, link it to a clinician record, set a reception
login's hubs, deactivate, reset a password; refusals are named on the form; only admins."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Clinician, StaffSite
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.auth.passwords import verify_password
from tests.builders import make_clinic, make_user
from tests.telehealth.video.test_clinic_pages import sign_in

PATH = "/staff/admin/users"


async def _admin(session: AsyncSession, client: httpx.AsyncClient) -> tuple[StaffUser, str]:
    admin, _ = await make_user(session, role="admin")
    return admin, await sign_in(client, admin.email)


async def _by_email(session: AsyncSession, email: str) -> StaffUser:
    found = await session.scalar(select(StaffUser).where(StaffUser.email == email))
    assert found is not None
    return found


async def test_an_admin_adds_a_clinicians_login_linked_to_their_record(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, csrf = await _admin(session, client)
    assert (await client.get(f"{PATH}/new")).status_code == 200
    added = await client.post(
        f"{PATH}/new",
        data={
            "csrf": csrf,
            "name": "Dr Ada Nwosu",
            "email": "Ada.Nwosu@nhs.net",
            "role": "clinician",
            "password": "correct horse battery",
            "clinician_id": str(clinic.clinician.id),
        },
    )
    assert added.status_code == 303, added.text
    user = await _by_email(session, "ada.nwosu@nhs.net")
    await session.refresh(clinic.clinician)
    assert clinic.clinician.user_id == user.id
    listing = await client.get(added.headers["location"])
    assert "The user is added." in listing.text and clinic.clinician.name in listing.text


async def test_refusals_are_named_on_the_form_and_typed_values_kept(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin, csrf = await _admin(session, client)
    empty = await client.post(f"{PATH}/new", data={"csrf": csrf, "name": "", "email": ""})
    assert empty.status_code == 422
    for field in ("name", "email", "role"):
        assert f'href="#{field}"' in empty.text
    short = await client.post(
        f"{PATH}/new",
        data={
            "csrf": csrf,
            "name": "Sam",
            "email": "sam@nhs.net",
            "role": "navigator",
            "password": "short",
        },
    )
    assert short.status_code == 422 and "Password must be at least 10 characters" in short.text
    assert 'value="sam@nhs.net"' in short.text
    taken = await client.post(
        f"{PATH}/new",
        data={"csrf": csrf, "name": "Again", "email": admin.email, "role": "navigator"},
    )
    assert taken.status_code == 409 and "already exists" in taken.text
    wrong_link = await client.post(
        f"{PATH}/new",
        data={
            "csrf": csrf,
            "name": "Nav",
            "email": "nav@nhs.net",
            "role": "navigator",
            "clinician_id": "1",
        },
    )
    assert wrong_link.status_code == 422 and 'href="#clinician_id"' in wrong_link.text


async def test_reception_hubs_deactivation_and_a_password_reset(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, csrf = await _admin(session, client)
    desk, _ = await make_user(session, role="reception")
    form = {
        "csrf": csrf,
        "name": desk.name,
        "role": "reception",
        "active": "yes",
        "hub_ids": [str(clinic.hub.id)],
    }
    saved = await client.post(f"{PATH}/{desk.id}", data=form)
    assert saved.status_code == 303, saved.text
    hubs = list(
        await session.scalars(select(StaffSite.site_id).where(StaffSite.user_id == desk.id))
    )
    assert hubs == [clinic.hub.id]
    off = await client.post(f"{PATH}/{desk.id}", data={**form, "active": "no"})
    assert off.status_code == 303
    await session.refresh(desk)
    assert desk.active is False
    reset = await client.post(f"{PATH}/{desk.id}/password", data={"csrf": csrf})
    assert reset.status_code == 200
    found = re.search(r'<code id="new-password">([^<]+)</code>', reset.text)
    assert found
    await session.refresh(desk)
    assert verify_password(desk.password_hash, found.group(1))


async def test_a_linked_clinician_changes_role_only_when_unlinked_in_the_same_change(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, csrf = await _admin(session, client)
    doctor, _ = await make_user(session, role="clinician")
    clinic.clinician.user_id = doctor.id
    await session.flush()
    form = {"csrf": csrf, "name": doctor.name, "role": "navigator", "active": "yes"}
    moved = await client.post(f"{PATH}/{doctor.id}", data=form)
    assert moved.status_code == 303, moved.text
    session.expunge_all()
    assert (await session.get(StaffUser, doctor.id)).role == "navigator"  # type: ignore[union-attr]
    assert (await session.get(Clinician, clinic.clinician.id)).user_id is None  # type: ignore[union-attr]


async def test_an_admin_cannot_lock_themselves_out_and_others_cannot_use_the_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin, csrf = await _admin(session, client)
    own = await client.post(
        f"{PATH}/{admin.id}",
        data={"csrf": csrf, "name": admin.name, "role": "admin", "active": "no"},
    )
    assert own.status_code == 409 and "cannot change your own role" in own.text
    navigator, _ = await make_user(session, role="navigator")
    other = httpx.AsyncClient(transport=client._transport, base_url="http://test")
    await sign_in(other, navigator.email)
    assert (await other.get(PATH)).status_code == 403
