"""The NHS.UK header's navigation: each role gets links to every page it may use, the current
page is marked, and a page the role may not use answers 403 with the header still there."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.harness import Served, screenshot, sign_in

pytestmark = pytest.mark.slow

NAVIGATOR = [
    "Worklist",
    "Patients",
    "To rebook",
    "Clinic",
    "Availability",
    "Reception",
    "Messages",
    "Travel report",
]
ALL = [*NAVIGATOR, "Sites", "Services", "Clinicians", "Users"]
LINKS = {
    "clinician": ["Clinic", "Availability"],
    "reception": ["Reception", "Messages"],
    "navigator": NAVIGATOR,
    "admin": ALL,
    "analyst": ["Travel report"],
}
PATHS = {
    "Worklist": "/staff/worklist",
    "Patients": "/staff/patients",
    "To rebook": "/staff/to-rebook",
    "Clinic": "/staff/clinic",
    "Availability": "/staff/availability",
    "Reception": "/staff/reception",
    "Messages": "/staff/outbox",
    "Travel report": "/staff/reports/travel",
    "Sites": "/staff/admin/sites",
    "Services": "/staff/admin/services",
    "Clinicians": "/staff/admin/clinicians",
    "Users": "/staff/admin/users",
}


async def _navigation(page: Page) -> list[str]:
    return await page.locator("nav.nhsuk-header__navigation a").all_inner_texts()


async def _current(page: Page) -> list[str]:
    return await page.locator(
        'nav.nhsuk-header__navigation a[aria-current="page"]'
    ).all_inner_texts()


@pytest.mark.parametrize("role", LINKS)
async def test_each_role_gets_links_to_what_it_may_use(
    page: Page, served: Served, role: str
) -> None:
    await sign_in(page, served, role)
    assert await _navigation(page) == LINKS[role]
    for title in LINKS[role]:
        # Following the header's own link, as a user would.
        link = page.locator("nav.nhsuk-header__navigation").get_by_role(
            "link", name=title, exact=True
        )
        if not await link.is_visible():  # moved under "More" when the header is full
            await page.click("#toggle-menu")
        async with page.expect_navigation():
            await link.click()
        assert page.url.split("?")[0] == served.url(PATHS[title])
        assert await _current(page) == [title]
        assert await _navigation(page) == LINKS[role]
    await screenshot(page, served, f"navigation-{role}")
    for title in set(ALL) - set(LINKS[role]):
        response = await page.goto(served.url(PATHS[title]))
        assert response is not None and response.status == 403, (role, title)
        assert await page.locator("h1").inner_text() == "You cannot do that"
        assert await _navigation(page) == LINKS[role]
        assert await _current(page) == []
        assert await page.locator("button.nhsuk-header__account-button").inner_text() == "Sign out"


async def test_a_message_is_inside_messages_and_sign_out_works(page: Page, served: Served) -> None:
    await sign_in(page, served, "navigator")
    await page.goto(served.url(f"/staff/outbox/{served.message_id}"))
    section = page.locator('nav.nhsuk-header__navigation a[aria-current="true"]')
    assert await section.all_inner_texts() == ["Messages"]
    assert await _current(page) == []
    async with page.expect_navigation():
        await page.click("button.nhsuk-header__account-button")
    assert page.url == served.url("/staff/login")
    assert await _navigation(page) == []
    response = await page.goto(served.url("/staff/outbox"))
    assert response is not None and page.url.startswith(served.url("/staff/login"))
