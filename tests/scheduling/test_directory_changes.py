"""PATCH of sites, clinicians and services: validated as create is, audited, and never moving
a booked appointment (those left not fitting are listed), on both databases."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.slots import london_datetime
from telehealth.kernel.audit import AuditEvent
from tests.builders import (
    book_via_api,
    make_clinic,
    make_clinician,
    make_service,
    make_user,
    next_weekday,
)

DAY = next_weekday(1, weeks=2)  # make_clinic's Tuesday 09:00-12:00 session


def _at(hour: int, minute: int = 0) -> datetime:
    return london_datetime(DAY, time(hour, minute))


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


async def _audited(session: AsyncSession, action: str, entity_id: int) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(AuditEvent.detail)
        .where(AuditEvent.action == action, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.id)
    )
    return list(rows)


async def test_a_longer_service_lists_the_bookings_it_no_longer_fits_and_moves_none(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session, length=20)
    admin_user, admin = await make_user(session, role="admin")
    _, navigator = await make_user(session, role="navigator")
    first = await book_via_api(client, session, navigator, clinic, _at(9))
    second = await book_via_api(client, session, navigator, clinic, _at(9, 20))
    roomy = await book_via_api(client, session, navigator, clinic, _at(10))  # free until 12:00
    last = await book_via_api(client, session, navigator, clinic, _at(11, 40))

    changed = await client.patch(
        f"/api/v1/services/{clinic.service.id}", json={"length_minutes": 30}, headers=admin
    )
    assert changed.status_code == 200, changed.text
    data = changed.json()
    assert data["length_minutes"] == 30 and data["name"] == clinic.service.name
    affected = {a["appointment"]["id"]: a for a in data["appointments_affected"]}
    # 9:00 now runs into 9:20, and 11:40 past the session's end at 12:00; 9:20 and 10:00
    # have room to run on.
    assert set(affected) == {first["id"], last["id"]}
    assert {c["reason"] for c in affected[first["id"]]["clashes"]} == {"service_length"}
    assert "next appointment" in affected[first["id"]]["clashes"][0]["message"]
    assert "end of the clinician's session" in affected[last["id"]]["clashes"][0]["message"]
    for booked in (first, second, roomy, last):
        now = (await client.get(f"/api/v1/appointments/{booked['id']}", headers=navigator)).json()
        assert (now["start"], now["end"], now["sequence"]) == (
            booked["start"],
            booked["end"],
            booked["sequence"],
        )
    # A buffer too: 9:20 now runs into 10:00 through its buffer (30 + 15 minutes).
    buffered = await client.patch(
        f"/api/v1/services/{clinic.service.id}", json={"buffer_minutes": 15}, headers=admin
    )
    assert [a["appointment"]["id"] for a in buffered.json()["appointments_affected"]] == [
        second["id"]
    ]
    listed = await client.get("/api/v1/appointments/to-rebook", headers=navigator)
    assert listed.status_code == 200, listed.text
    assert [i["appointment"]["id"] for i in listed.json()["items"]] == [
        first["id"],
        second["id"],
        last["id"],
    ]
    assert await _audited(session, "service.update", clinic.service.id) == [
        {"changes": {"length_minutes": {"before": 20, "after": 30}}},
        {"changes": {"buffer_minutes": {"before": 0, "after": 15}}},
    ]
    actors = await session.scalars(
        select(AuditEvent.actor_user_id).where(AuditEvent.action == "service.update")
    )
    assert set(actors) == {admin_user.id}


async def test_service_changes_are_validated_as_on_create(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    other = await make_service(session, site=clinic.hospital)
    _, admin = await make_user(session, role="admin")
    url = f"/api/v1/services/{clinic.service.id}"
    refused = {
        "length_minutes": {"length_minutes": 3},
        "modes": {"modes": ["video_home", "video_home"]},
        "name": {"name": None},
        "usual_site_id": {"usual_site_id": 99_999},
        "colour": {"colour": "red"},
        "organisation_id": {"organisation_id": clinic.organisation.id},
        "active": {"active": None},
    }
    for field, body in refused.items():
        error = _error(await client.patch(url, json=body, headers=admin), 422, "invalid_input")
        assert field in error["fields"], (body, error)
    _error(await client.patch(url, json={"name": other.name}, headers=admin), 409, "duplicate")
    _error(
        await client.patch("/api/v1/services/99999", json={"name": "x"}, headers=admin),
        404,
        "not_found",
    )
    unchanged = (await client.get(url, headers=admin)).json()
    assert unchanged["length_minutes"] == 20 and unchanged["name"] == clinic.service.name
    _, navigator = await make_user(session, role="navigator")
    _error(await client.patch(url, json={"name": "x"}, headers=navigator), 403, "forbidden")
    assert await _audited(session, "service.update", clinic.service.id) == []
    # Nothing sent changes nothing, and is not audited.
    same = await client.patch(url, json={}, headers=admin)
    assert same.status_code == 200 and same.json()["appointments_affected"] == []
    assert await _audited(session, "service.update", clinic.service.id) == []


async def test_a_service_no_longer_offering_a_mode_lists_those_bookings(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, admin = await make_user(session, role="admin")
    home = await book_via_api(client, session, admin, clinic, _at(9))
    hub = await book_via_api(
        client, session, admin, clinic, _at(10), mode="video_site", site_id=clinic.hub.id
    )
    changed = await client.patch(
        f"/api/v1/services/{clinic.service.id}",
        json={"modes": ["video_home", "in_person"]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    affected = changed.json()["appointments_affected"]
    assert [a["appointment"]["id"] for a in affected] == [hub["id"]]
    assert [c["reason"] for c in affected[0]["clashes"]] == ["mode_not_offered"]
    withdrawn = await client.patch(
        f"/api/v1/services/{clinic.service.id}", json={"active": False}, headers=admin
    )
    assert withdrawn.json()["active"] is False
    assert {a["appointment"]["id"] for a in withdrawn.json()["appointments_affected"]} == {
        home["id"],
        hub["id"],
    }


async def test_a_clinician_changed_linked_and_withdrawn(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, admin = await make_user(session, role="admin")
    login, _ = await make_user(session, role="clinician")
    navigator_login, _ = await make_user(session, role="navigator")
    url = f"/api/v1/clinicians/{clinic.clinician.id}"

    renamed = await client.patch(
        url, json={"name": "Dr Priya Shah", "email": "Priya.Shah@Test.nhs.uk"}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["email"]) == (
        "Dr Priya Shah",
        "priya.shah@test.nhs.uk",
    )
    error = _error(
        await client.patch(url, json={"email": "nope"}, headers=admin), 422, "invalid_input"
    )
    assert "email" in error["fields"]

    # Linking a login: a clinician's only, and one clinician per login.
    linked = await client.patch(url, json={"user_id": login.id}, headers=admin)
    assert linked.status_code == 200 and linked.json()["user_id"] == login.id
    error = _error(
        await client.patch(url, json={"user_id": navigator_login.id}, headers=admin),
        422,
        "invalid_input",
    )
    assert "clinician" in error["fields"]["user_id"]
    _error(await client.patch(url, json={"user_id": 99_999}, headers=admin), 422, "invalid_input")
    other = await make_clinician(session, organisation=clinic.organisation)
    error = _error(
        await client.patch(
            f"/api/v1/clinicians/{other.id}", json={"user_id": login.id}, headers=admin
        ),
        409,
        "login_linked",
    )
    assert str(clinic.clinician.id) in error["message"]
    created = await client.post(
        "/api/v1/clinicians",
        json={
            "organisation_id": clinic.organisation.id,
            "name": "Dr Another",
            "profession": "GP",
            "email": "another@test.nhs.uk",
            "user_id": login.id,
        },
        headers=admin,
    )
    _error(created, 409, "login_linked")
    unlinked = await client.patch(url, json={"user_id": None}, headers=admin)
    assert unlinked.json()["user_id"] is None
    relinked = await client.patch(
        f"/api/v1/clinicians/{other.id}", json={"user_id": login.id}, headers=admin
    )
    assert relinked.status_code == 200, relinked.text

    booked = await book_via_api(client, session, admin, clinic, _at(9))
    withdrawn = await client.patch(url, json={"active": False}, headers=admin)
    assert withdrawn.status_code == 200 and withdrawn.json()["active"] is False
    affected = withdrawn.json()["appointments_affected"]
    assert [a["appointment"]["id"] for a in affected] == [booked["id"]]
    assert [c["reason"] for c in affected[0]["clashes"]] == ["clinician_inactive"]
    audited = await _audited(session, "clinician.update", clinic.clinician.id)
    assert audited[0] == {
        "changes": {
            "name": {"before": clinic.clinician.name, "after": "Dr Priya Shah"},
            "email": {"before": clinic.clinician.email, "after": "priya.shah@test.nhs.uk"},
        }
    }
    assert audited[-1] == {"changes": {"active": {"before": True, "after": False}}}


async def test_a_site_changed_as_on_create_and_withdrawn(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, admin = await make_user(session, role="admin")
    url = f"/api/v1/sites/{clinic.hospital.id}"
    moved = await client.patch(
        url, json={"postcode": "la9 7rg", "address": "Burton Road"}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["postcode"], moved.json()["address"]) == ("LA9 7RG", "Burton Road")
    _error(
        await client.patch(url, json={"postcode": "nowhere"}, headers=admin), 422, "invalid_input"
    )
    _error(await client.patch(url, json={"video_rooms": 2}, headers=admin), 422, "invalid_input")
    # A hub with rooms cannot become a hospital, as a hospital cannot be created with rooms.
    _error(
        await client.patch(
            f"/api/v1/sites/{clinic.hub.id}", json={"kind": "hospital"}, headers=admin
        ),
        422,
        "invalid_input",
    )
    _error(await client.patch(url, json={"name": clinic.hub.name}, headers=admin), 409, "duplicate")
    in_person = await book_via_api(
        client, session, admin, clinic, _at(9), mode="in_person", site_id=clinic.hospital.id
    )
    await book_via_api(client, session, admin, clinic, _at(10))
    closed = await client.patch(url, json={"active": False}, headers=admin)
    assert closed.status_code == 200 and closed.json()["active"] is False
    affected = closed.json()["appointments_affected"]
    assert [a["appointment"]["id"] for a in affected] == [in_person["id"]]
    assert [c["reason"] for c in affected[0]["clashes"]] == ["site_inactive"]
    assert (await _audited(session, "site.update", clinic.hospital.id))[0] == {
        "changes": {
            "postcode": {"before": "LA1 4RP", "after": "LA9 7RG"},
            "address": {"before": "1 Test Street", "after": "Burton Road"},
        }
    }
