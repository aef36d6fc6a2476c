"""Staff user administration through the API: accounts created, changed, deactivated (tokens
revoked, page sessions ended), passwords reset, clinician logins linked; on both databases."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.auth.models import ApiToken, StaffUser
from telehealth.kernel.auth.service import authenticate_password, create_token
from telehealth.kernel.errors import Unauthenticated
from tests.builders import make_clinician, make_user

PASSWORD = "correct horse battery"  # what make_user sets


def _error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


async def _sign_in(client: httpx.AsyncClient, email: str, password: str) -> int:
    page = await client.get("/staff/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    done = await client.post(
        "/staff/login", data={"csrf": csrf.group(1), "email": email, "password": password}
    )
    return done.status_code


async def _signs_in(session: AsyncSession, email: str, password: str) -> bool:
    # The request's changes, not what this session last read of the user.
    await session.execute(
        select(StaffUser).where(StaffUser.email == email).execution_options(populate_existing=True)
    )
    try:
        await authenticate_password(session, email=email, password=password)
    except Unauthenticated:
        return False
    return True


async def test_an_admin_adds_staff_users_validated_as_the_command_does(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin_user, admin = await make_user(session, role="admin")
    created = await client.post(
        "/api/v1/users",
        json={
            "email": " Sam.Reed@Test.nhs.uk",
            "name": "Sam Reed",
            "role": "reception",
            "password": "a long enough password",
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    sam = created.json()
    assert {k: sam[k] for k in ("email", "name", "role", "active", "has_password")} == {
        "email": "sam.reed@test.nhs.uk",
        "name": "Sam Reed",
        "role": "reception",
        "active": True,
        "has_password": True,
    }
    assert await _signs_in(session, "sam.reed@test.nhs.uk", "a long enough password")
    assert (await client.get(f"/api/v1/users/{sam['id']}", headers=admin)).json() == sam
    listed = await client.get("/api/v1/users", params={"role": "reception"}, headers=admin)
    assert [u["id"] for u in listed.json()] == [sam["id"]]
    by_email = await client.get(
        "/api/v1/users", params={"email": "SAM.REED@test.nhs.uk"}, headers=admin
    )
    assert [u["id"] for u in by_email.json()] == [sam["id"]]

    body = {"email": "x@test.nhs.uk", "name": "X", "role": "clinician"}
    for field, change in (
        ("password", {"password": "short"}),
        ("role", {"role": "superuser"}),
        ("email", {"email": "not an email"}),
        ("name", {"name": ""}),
        ("colour", {"colour": "red"}),
    ):
        refused = await client.post("/api/v1/users", json=body | change, headers=admin)
        assert field in _error(refused, 422, "invalid_input")["fields"], field
    again = await client.post(
        "/api/v1/users", json=body | {"email": "SAM.REED@test.nhs.uk"}, headers=admin
    )
    _error(again, 409, "email_taken")
    api_only = await client.post("/api/v1/users", json=body, headers=admin)
    assert api_only.status_code == 201 and api_only.json()["has_password"] is False
    _, navigator = await make_user(session, role="navigator")
    _error(await client.post("/api/v1/users", json=body, headers=navigator), 403, "forbidden")
    _error(await client.get("/api/v1/users", headers=navigator), 403, "forbidden")
    audited = await session.scalars(
        select(AuditEvent.actor_user_id).where(
            AuditEvent.action == "user.create", AuditEvent.entity_id == sam["id"]
        )
    )
    assert list(audited) == [admin_user.id]


async def test_deactivating_a_user_revokes_their_tokens_and_ends_their_session(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, admin = await make_user(session, role="admin")
    user, headers = await make_user(session, role="navigator")
    assert await _sign_in(client, user.email, PASSWORD) == 303
    assert (await client.get("/staff/clinic")).status_code == 200
    assert (await client.get("/api/v1/clinicians", headers=headers)).status_code == 200

    off = await client.patch(f"/api/v1/users/{user.id}", json={"active": False}, headers=admin)
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    _error(await client.get("/api/v1/clinicians", headers=headers), 401, "unauthenticated")
    page = await client.get("/staff/clinic")
    assert page.status_code == 303 and page.headers["location"].startswith("/staff/login")
    assert await _sign_in(client, user.email, PASSWORD) == 401
    tokens = await session.scalars(select(ApiToken.revoked_at).where(ApiToken.user_id == user.id))
    assert all(revoked is not None for revoked in tokens)

    # Back on: signing in works again; the old tokens stay revoked, new ones work.
    on = await client.patch(f"/api/v1/users/{user.id}", json={"active": True}, headers=admin)
    assert on.json()["active"] is True
    _error(await client.get("/api/v1/clinicians", headers=headers), 401, "unauthenticated")
    assert await _sign_in(client, user.email, PASSWORD) == 303
    token = await create_token(session, user=user)
    fresh = await client.get("/api/v1/clinicians", headers={"Authorization": f"Bearer {token}"})
    assert fresh.status_code == 200


async def test_a_users_name_and_role_are_changed_and_audited(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin_user, admin = await make_user(session, role="admin")
    user, headers = await make_user(session, role="reception")
    url = f"/api/v1/users/{user.id}"
    changed = await client.patch(url, json={"name": "Jo Hill", "role": "navigator"}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["role"]) == ("Jo Hill", "navigator")
    # Their token now acts with the new role.
    patients = await client.get(
        "/api/v1/patients", params={"nhs_number": "9434765919"}, headers=headers
    )
    assert patients.status_code == 200
    for field, body in (
        ("role", {"role": "superuser"}),
        ("name", {"name": ""}),
        ("name", {"name": None}),
        ("email", {"email": "new@test.nhs.uk"}),
        ("password", {"password": "a long enough password"}),
    ):
        refused = await client.patch(url, json=body, headers=admin)
        assert field in _error(refused, 422, "invalid_input")["fields"], body
    _error(await client.patch("/api/v1/users/99999", json={}, headers=admin), 404, "not_found")
    own = await client.patch(
        f"/api/v1/users/{admin_user.id}", json={"active": False}, headers=admin
    )
    _error(own, 409, "own_account")
    detail = await session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.action == "user.update", AuditEvent.entity_id == user.id
        )
    )
    assert list(detail) == [
        {
            "changes": {
                "name": {"before": "Test reception", "after": "Jo Hill"},
                "role": {"before": "reception", "after": "navigator"},
            }
        }
    ]


async def test_an_admin_resets_a_password(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _, admin = await make_user(session, role="admin")
    user, _ = await make_user(session, role="clinician")
    url = f"/api/v1/users/{user.id}/password"
    given = await client.post(url, json={"password": "a brand new password"}, headers=admin)
    assert given.status_code == 200, given.text
    assert given.json() == {"user_id": user.id, "password": None}
    assert await _signs_in(session, user.email, "a brand new password")
    assert not await _signs_in(session, user.email, PASSWORD)
    short = await client.post(url, json={"password": "short"}, headers=admin)
    assert "password" in _error(short, 422, "invalid_input")["fields"]
    generated = await client.post(url, json={}, headers=admin)
    password = generated.json()["password"]
    assert isinstance(password, str) and len(password) >= 10
    assert await _signs_in(session, user.email, password)
    assert not await _signs_in(session, user.email, "a brand new password")
    details = await session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "user.password_reset")
    )
    assert list(details) == [{"generated": False}, {"generated": True}]


async def test_a_new_clinicians_login_is_linked_by_an_admin_and_their_clinic_opens(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, admin = await make_user(session, role="admin")
    clinician = await make_clinician(session)
    created = await client.post(
        "/api/v1/users",
        json={
            "email": "new.doctor@test.nhs.uk",
            "name": "Dr New",
            "role": "clinician",
            "password": "a long enough password",
        },
        headers=admin,
    )
    user = created.json()
    assert user["clinician_id"] is None
    assert await _sign_in(client, user["email"], "a long enough password") == 303
    unlinked = await client.get("/staff/clinic")
    assert unlinked.status_code == 403 and "not linked to a clinician" in unlinked.text

    linked = await client.patch(
        f"/api/v1/clinicians/{clinician.id}", json={"user_id": user["id"]}, headers=admin
    )
    assert linked.status_code == 200 and linked.json()["user_id"] == user["id"]
    assert (await client.get("/staff/clinic")).status_code == 200
    shown = await client.get(f"/api/v1/users/{user['id']}", headers=admin)
    assert shown.json()["clinician_id"] == clinician.id
    # A linked login keeps the clinician role until it is unlinked.
    demoted = await client.patch(
        f"/api/v1/users/{user['id']}", json={"role": "navigator"}, headers=admin
    )
    assert f"/api/v1/clinicians/{clinician.id}" in _error(demoted, 409, "login_linked")["message"]
    await client.patch(f"/api/v1/clinicians/{clinician.id}", json={"user_id": None}, headers=admin)
    demoted = await client.patch(
        f"/api/v1/users/{user['id']}", json={"role": "navigator"}, headers=admin
    )
    assert demoted.status_code == 200 and demoted.json()["clinician_id"] is None
