"""The directory's sites and services carry what messages tell patients: directions and the
number to call."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.builders import make_organisation, make_site, make_user


async def test_sites_and_services_keep_directions_and_phones(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    hospital = await make_site(session, organisation=organisation)
    _, admin = await make_user(session, role="admin")
    hub = await client.post(
        "/api/v1/sites",
        json={
            "organisation_id": organisation.id,
            "kind": "community_hub",
            "name": "Directions Test Hub",
            "postcode": "LA4 5RJ",
            "video_rooms": 1,
            "directions": "Side entrance on Thornton Road; the video room is past reception.",
            "phone": "+44 113 4960000",
        },
        headers=admin,
    )
    assert hub.status_code == 201, hub.text
    read = (await client.get(f"/api/v1/sites/{hub.json()['id']}", headers=admin)).json()
    assert read["directions"].startswith("Side entrance on Thornton Road")
    assert read["phone"] == "0113 496 0000"  # written as people dial it
    service = await client.post(
        "/api/v1/services",
        json={
            "organisation_id": organisation.id,
            "name": "Phone Test Clinic",
            "specialty": "Cardiology",
            "length_minutes": 20,
            "modes": ["video_home"],
            "usual_site_id": hospital.id,
            "phone": "01134960001",
        },
        headers=admin,
    )
    assert service.status_code == 201, service.text
    read = (await client.get(f"/api/v1/services/{service.json()['id']}", headers=admin)).json()
    assert read["phone"] == "0113 496 0001"
    # Both stay optional: a site or service without them is still created.
    plain = (await client.get(f"/api/v1/sites/{hospital.id}", headers=admin)).json()
    assert (plain["directions"], plain["phone"]) == (None, None)


@pytest.mark.parametrize("phone", ["not a number", "0113 496", "+1 202 555 0123", "9" * 40])
async def test_a_phone_that_cannot_be_dialled_is_refused_by_name(
    client: httpx.AsyncClient, session: AsyncSession, phone: str
) -> None:
    organisation = await make_organisation(session)
    _, admin = await make_user(session, role="admin")
    response = await client.post(
        "/api/v1/sites",
        json={
            "organisation_id": organisation.id,
            "kind": "hospital",
            "name": "Bad Phone Hospital",
            "postcode": "LA1 4RP",
            "phone": phone,
        },
        headers=admin,
    )
    assert response.status_code == 422, response.text
    assert list(response.json()["error"]["fields"]) == ["phone"]
