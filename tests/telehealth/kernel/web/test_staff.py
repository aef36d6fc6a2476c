"""Signed-in staff pages: the sign-in form's errors, and the one table of pages and roles that
both the pages' checks and the header's navigation come from."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from telehealth.kernel.auth.models import Role
from telehealth.kernel.web.staff import HOME_FOR_ROLE, STAFF_PAGES, navigation
from tests.builders import make_clinician, make_user
from tests.telehealth.video.test_clinic_pages import sign_in


async def _csrf(client: httpx.AsyncClient) -> str:
    page = await client.get("/staff/login")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _summary(html: str) -> list[tuple[str, str]]:
    summary = html.split('class="nhsuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return [
        (href, unescape(text))
        for href, text in re.findall(r'<a href="([^"]+)"\s*>\s*([^<]+?)\s*</a>', summary)
    ]


@pytest.mark.parametrize(
    ("email", "password", "expected"),
    [
        ("", "", [("#email", "Enter your email address"), ("#password", "Enter your password")]),
        ("  ", "secret", [("#email", "Enter your email address")]),
        ("someone@test.nhs.uk", "", [("#password", "Enter your password")]),
    ],
)
async def test_an_empty_field_is_named_in_the_summary(
    client: httpx.AsyncClient, email: str, password: str, expected: list[tuple[str, str]]
) -> None:
    csrf = await _csrf(client)
    page = await client.post(
        "/staff/login", data={"csrf": csrf, "email": email, "password": password}
    )
    assert page.status_code == 422
    assert _summary(page.text) == expected
    assert 'data-module="nhsuk-error-summary"' in page.text
    for href, _ in expected:
        field = href.removeprefix("#")
        assert (
            f'id="{field}-error"' in page.text and f'aria-describedby="{field}-error"' in page.text
        )
    assert "<title>Error: Sign in" in page.text


async def test_a_wrong_password_keeps_the_email_and_says_what_to_do(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, _ = await make_user(session, role="admin")
    csrf = await _csrf(client)
    page = await client.post(
        "/staff/login", data={"csrf": csrf, "email": user.email, "password": "not it"}
    )
    assert page.status_code == 401
    assert _summary(page.text) == [("#email", "Enter a correct email address and password")]
    assert f'value="{user.email}"' in page.text


def test_navigation_marks_the_page_and_its_section() -> None:
    items = navigation(Role.NAVIGATOR, "/staff/outbox/12")
    assert [(i.text, i.current, i.active) for i in items] == [
        ("Worklist", False, False),
        ("Patients", False, False),
        ("To rebook", False, False),
        ("Clinic", False, False),
        ("Availability", False, False),
        ("Reception", False, False),
        ("Messages", False, True),
        ("Travel report", False, False),
    ]
    assert [i.text for i in navigation(Role.CLINICIAN, "/staff/clinic") if i.current] == ["Clinic"]


def test_each_role_lands_on_a_page_it_may_use() -> None:
    for role in Role:
        home = HOME_FOR_ROLE[role]
        assert role in next(p.roles for p in STAFF_PAGES if p.path == home)


@pytest.mark.parametrize("role", list(Role))
async def test_pages_let_in_exactly_the_roles_the_table_names(
    client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> None:
    user, _ = await make_user(session, role=role.value)
    if role == Role.CLINICIAN:
        await make_clinician(session, user=user)
    await sign_in(client, user.email)
    for page in STAFF_PAGES:
        response = await client.get(page.path)
        assert response.status_code == (200 if role in page.roles else 403), (role, page.path)
        links = re.findall(r'class="nhsuk-header__navigation-link" href="([^"]+)"', response.text)
        assert links == [p.path for p in STAFF_PAGES if role in p.roles]
        assert "/staff/logout" in response.text
