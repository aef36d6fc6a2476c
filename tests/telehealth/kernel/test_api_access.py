"""Who may call the API, the directory admins build through it, its OpenAPI document and
/health."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.routing import Route

from app import create_app
from scheduling.models import Appointment, Site
from scheduling.slots import london_datetime
from telehealth.kernel.auth.service import revoke_tokens
from telehealth.kernel.config import Settings
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.kernel.http import PAGE_PREFIXES
from tests.builders import (
    make_clinic,
    make_clinician,
    make_organisation,
    make_service,
    make_site,
    make_user,
    next_weekday,
)

UNREACHABLE = "postgresql+asyncpg://nobody@127.0.0.1:1/none"


def _assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.text


# --- 401: who are you? -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-header"),
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="scheme-only"),
        pytest.param("Bearer    ", id="blank-token"),
        pytest.param("Token bth_abc", id="wrong-scheme"),
        pytest.param("Basic YWRtaW46YWRtaW4=", id="basic"),
        pytest.param("bth_abc", id="no-scheme"),
        pytest.param("Bearer bth_not-a-real-token", id="unknown-token"),
    ],
)
async def test_no_valid_token_is_401(
    client: httpx.AsyncClient, session: AsyncSession, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.get("/api/v1/services", headers=headers)
    _assert_error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_revoked_token_is_401(client: httpx.AsyncClient, session: AsyncSession) -> None:
    user, headers = await make_user(session, role="navigator")
    assert (await client.get("/api/v1/services", headers=headers)).status_code == 200
    assert await revoke_tokens(session, user=user) == 1
    await session.flush()
    _assert_error(await client.get("/api/v1/services", headers=headers), 401, "unauthenticated")


async def test_an_inactive_users_token_is_401(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, headers = await make_user(session, role="navigator")
    user.active = False
    await session.flush()
    _assert_error(await client.get("/api/v1/services", headers=headers), 401, "unauthenticated")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"{not json", id="malformed-json"),
        pytest.param(b'{"colour": "blue"}', id="invalid-body"),
    ],
)
async def test_authentication_comes_before_reading_the_body(
    client: httpx.AsyncClient, session: AsyncSession, body: bytes
) -> None:
    """A caller without a token learns nothing about what the API would accept."""
    before = await session.scalar(select(func.count()).select_from(Appointment))
    response = await client.post(
        "/api/v1/appointments", content=body, headers={"Content-Type": "application/json"}
    )
    _assert_error(response, 401, "unauthenticated")
    assert await session.scalar(select(func.count()).select_from(Appointment)) == before


# --- 403: you may not ------------------------------------------------------------------------


async def test_an_analyst_cannot_book(client: httpx.AsyncClient, session: AsyncSession) -> None:
    clinic = await make_clinic(session)
    _, analyst = await make_user(session, role="analyst")
    _, navigator = await make_user(session, role="navigator")
    body = {
        "service_id": clinic.service.id,
        "clinician_id": clinic.clinician.id,
        "start": london_datetime(next_weekday(1, weeks=2), time(9)).isoformat(),
        "mode": "video_home",
        "patient": {
            "given_name": "Ann",
            "family_name": "Bell",
            "date_of_birth": "1950-01-01",
            "email": "ann@example.com",
        },
    }
    before = await session.scalar(select(func.count()).select_from(Appointment))
    refused = await client.post("/api/v1/appointments", json=body, headers=analyst)
    _assert_error(refused, 403, "forbidden")
    assert await session.scalar(select(func.count()).select_from(Appointment)) == before
    # The analyst may still read, and the same body books for a navigator.
    assert (await client.get("/api/v1/services", headers=analyst)).status_code == 200
    booked = await client.post("/api/v1/appointments", json=body, headers=navigator)
    assert booked.status_code == 201, booked.text


async def test_an_analyst_is_refused_before_the_body_is_checked(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, analyst = await make_user(session, role="analyst")
    response = await client.post("/api/v1/appointments", json={"colour": "blue"}, headers=analyst)
    _assert_error(response, 403, "forbidden")


async def test_a_navigator_cannot_create_a_site(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    _, navigator = await make_user(session, role="navigator")
    body = {
        "organisation_id": organisation.id,
        "kind": "community_hub",
        "name": "Heysham Library Hub",
        "postcode": "LA3 2RE",
        "video_rooms": 1,
    }
    _assert_error(
        await client.post("/api/v1/sites", json=body, headers=navigator), 403, "forbidden"
    )
    named = select(func.count()).select_from(Site).where(Site.name == "Heysham Library Hub")
    assert await session.scalar(named) == 0


def _weekly_session(service_id: int, **changes: object) -> dict[str, object]:
    return {
        "weekday": 2,
        "start_time": "13:30",
        "end_time": "16:30",
        "valid_from": str(date.today()),
        "modes": ["video_home"],
        "service_ids": [service_id],
    } | changes


async def test_a_clinician_cannot_change_another_clinicians_availability(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    user, headers = await make_user(session, role="clinician")
    await make_clinician(session, organisation=clinic.organisation, user=user)
    others = f"/api/v1/clinicians/{clinic.clinician.id}"

    added = await client.post(
        f"{others}/sessions", json=_weekly_session(clinic.service.id), headers=headers
    )
    _assert_error(added, 403, "forbidden")
    removed = await client.delete(f"{others}/sessions/{clinic.session.id}", headers=headers)
    _assert_error(removed, 403, "forbidden")
    leave = await client.post(
        f"{others}/exceptions", json={"start_date": str(date.today())}, headers=headers
    )
    _assert_error(leave, 403, "forbidden")

    # Reading is open to all staff, and shows nothing changed.
    listed = await client.get(f"{others}/sessions", headers=headers)
    assert [s["id"] for s in listed.json()] == [clinic.session.id]
    exceptions = await client.get(f"{others}/exceptions", headers=headers)
    assert exceptions.json() == {"leave": [], "extra_sessions": []}


async def test_a_clinician_manages_their_own_sessions_and_leave(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    service = await make_service(session)
    user, headers = await make_user(session, role="clinician")
    clinician = await make_clinician(session, user=user)
    own = f"/api/v1/clinicians/{clinician.id}"

    created = await client.post(
        f"{own}/sessions", json=_weekly_session(service.id), headers=headers
    )
    assert created.status_code == 201, created.text
    weekly = created.json()
    assert weekly["clinician_id"] == clinician.id
    assert (weekly["weekday"], weekly["start_time"], weekly["one_off"]) == (2, "13:30:00", False)
    assert (await client.get(f"{own}/sessions", headers=headers)).json() == [weekly]

    day = next_weekday(2, weeks=3)
    leave = await client.post(
        f"{own}/exceptions",
        json={"start_date": str(day), "end_date": str(day + timedelta(days=2)), "reason": "Leave"},
        headers=headers,
    )
    assert leave.status_code == 201, leave.text
    created_leave = leave.json()
    assert created_leave.pop("appointments_affected") == []
    listed = (await client.get(f"{own}/exceptions", headers=headers)).json()
    assert listed == {"leave": [created_leave], "extra_sessions": []}

    deleted = await client.delete(f"{own}/exceptions/{leave.json()['id']}", headers=headers)
    assert deleted.status_code == 204
    deleted = await client.delete(f"{own}/sessions/{weekly['id']}", headers=headers)
    assert deleted.status_code == 200 and deleted.json() == {"appointments_affected": []}
    assert (await client.get(f"{own}/sessions", headers=headers)).json() == []
    assert (await client.get(f"{own}/exceptions", headers=headers)).json()["leave"] == []
    again = await client.delete(f"{own}/sessions/{weekly['id']}", headers=headers)
    _assert_error(again, 404, "not_found")


# --- the directory, built by an admin --------------------------------------------------------


async def _created(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, object]
) -> dict[str, Any]:
    """POST, then read it back: from the list, and from its own URL where there is one."""
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert created in (await client.get(path, headers=headers)).json()
    if path != "/api/v1/organisations":  # organisations are only listed
        read = await client.get(f"{path}/{created['id']}", headers=headers)
        assert read.status_code == 200, read.text
        assert read.json() == created
    return created


async def test_an_admin_builds_the_directory_through_the_api(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, admin = await make_user(session, role="admin")
    organisation = await _created(
        client, admin, "/api/v1/organisations", {"name": "Morecambe Bay Trust", "ods_code": "RTX"}
    )
    assert (organisation["name"], organisation["ods_code"]) == ("Morecambe Bay Trust", "RTX")

    hospital = await _created(
        client,
        admin,
        "/api/v1/sites",
        {
            "organisation_id": organisation["id"],
            "kind": "hospital",
            "name": "Royal Lancaster Infirmary",
            "address": "Ashton Road, Lancaster",
            "postcode": "la1 4rp",
        },
    )
    assert (hospital["postcode"], hospital["video_rooms"]) == ("LA1 4RP", 0)
    hub = await _created(
        client,
        admin,
        "/api/v1/sites",
        {
            "organisation_id": organisation["id"],
            "kind": "community_hub",
            "name": "Morecambe Health Centre Hub",
            "postcode": "LA4 5RJ",
            "video_rooms": 3,
        },
    )
    assert (hub["kind"], hub["video_rooms"], hub["active"]) == ("community_hub", 3, True)
    rooms = (await client.get(f"/api/v1/sites/{hub['id']}/rooms", headers=admin)).json()
    assert len(rooms) == 3 and {r["site_id"] for r in rooms} == {hub["id"]}
    hubs = (await client.get("/api/v1/sites?kind=community_hub", headers=admin)).json()
    assert hub in hubs and hospital not in hubs

    clinician = await _created(
        client,
        admin,
        "/api/v1/clinicians",
        {
            "organisation_id": organisation["id"],
            "name": "Dr Priya Shah",
            "profession": "Consultant Cardiologist",
            "email": "Priya.Shah@Test.nhs.uk",
        },
    )
    assert clinician["email"] == "priya.shah@test.nhs.uk" and clinician["user_id"] is None

    service = await _created(
        client,
        admin,
        "/api/v1/services",
        {
            "organisation_id": organisation["id"],
            "name": "Heart failure follow-up",
            "specialty": "Cardiology",
            "length_minutes": 30,
            "modes": ["video_home", "video_site"],
            "usual_site_id": hospital["id"],
            "horizon_days": 90,
        },
    )
    assert service["modes"] == ["video_home", "video_site"]
    assert (service["length_minutes"], service["horizon_days"], service["buffer_minutes"]) == (
        30,
        90,
        0,
    )


async def test_video_rooms_only_at_a_community_hub(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    _, admin = await make_user(session, role="admin")
    body = {
        "organisation_id": organisation.id,
        "kind": "hospital",
        "name": "Furness General",
        "postcode": "LA14 4LF",
        "video_rooms": 2,
    }
    response = await client.post("/api/v1/sites", json=body, headers=admin)
    _assert_error(response, 422, "invalid_input")


async def test_duplicates_are_409(client: httpx.AsyncClient, session: AsyncSession) -> None:
    organisation = await make_organisation(session, name="Duplicate Test Trust")
    site = await make_site(session, organisation=organisation, name="Duplicate Test Hospital")
    clinician = await make_clinician(session, organisation=organisation)
    service = await make_service(session, site=site)
    _, admin = await make_user(session, role="admin")
    duplicates = {
        "/api/v1/organisations": {"name": "Duplicate Test Trust"},
        "/api/v1/sites": {
            "organisation_id": organisation.id,
            "kind": "hospital",
            "name": "Duplicate Test Hospital",
            "postcode": "LA1 4RP",
        },
        "/api/v1/clinicians": {
            "organisation_id": organisation.id,
            "name": "Dr Someone Else",
            "profession": "GP",
            "email": clinician.email.upper(),
        },
        "/api/v1/services": {
            "organisation_id": organisation.id,
            "name": service.name,
            "specialty": "Cardiology",
            "length_minutes": 20,
            "modes": ["video_home"],
            "usual_site_id": site.id,
        },
    }
    for path, body in duplicates.items():
        before = len((await client.get(path, headers=admin)).json())
        response = await client.post(path, json=body, headers=admin)
        assert response.status_code == 409, (path, response.text)
        assert response.json()["error"]["code"] == "duplicate", path
        assert len((await client.get(path, headers=admin)).json()) == before, path


# --- the OpenAPI document --------------------------------------------------------------------


def _json_routes(app_routes: list[Any]) -> set[tuple[str, str]]:
    """(path, method) of every route answering JSON: all but the HTML pages and assets (the
    icon browsers ask for at /favicon.ico is one)."""
    found = set()
    for route in app_routes:
        if not isinstance(route, Route) or route.path in ("/", "/favicon.ico"):
            continue
        if route.path.startswith(PAGE_PREFIXES):
            continue
        found |= {(route.path, m) for m in route.methods or () if m != "HEAD"}
    return found


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


async def test_openapi_documents_every_route(
    client: httpx.AsyncClient,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    documented = {
        (path, method.upper()) for path, item in document["paths"].items() for method in item
    }
    routes = _json_routes(create_app(settings, sessionmaker=sessionmaker).routes)
    assert routes, "the app has JSON routes"
    assert documented == routes, (
        f"undocumented: {sorted(routes - documented)}; no such route: {sorted(documented - routes)}"
    )


async def test_openapi_operations_declare_success_security_and_parameters(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert any(re.fullmatch(r"2\d\d", status) for status in operation["responses"]), where
            security = operation.get("security", document.get("security", []))
            if path.startswith("/api/v1/"):
                assert security, f"{where} has no security requirement"
                assert all(name in schemes for req in security for name in req), where
                assert "401" in operation["responses"], where
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), where
    for ref in _refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


# --- /health ---------------------------------------------------------------------------------


async def test_health_is_ok_with_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_health_is_503_when_the_database_cannot_be_reached(settings: Settings) -> None:
    engine = create_engine(UNREACHABLE)
    app = create_app(settings, sessionmaker=make_sessionmaker(engine))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            response = await client.get("/health")
    finally:
        await engine.dispose()
    assert response.status_code == 503, response.text
    assert response.json()["status"] == "unavailable"
