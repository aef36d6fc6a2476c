"""NHS.UK frontend's script starts on every page: the body is marked as supported, initAll
initialises the components, and an error summary takes the focus when the page loads."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.harness import Served, screenshot, sign_in

pytestmark = pytest.mark.slow


async def _started(page: Page) -> dict[str, bool]:
    return {
        "supported": await page.evaluate(
            "document.body.classList.contains('nhsuk-frontend-supported')"
        ),
        # initAll marks each component it starts, e.g. data-nhsuk-header-init on the header.
        "header": await page.locator("header[data-nhsuk-header-init]").count() == 1,
        "skip_link": await page.locator("a.nhsuk-skip-link[data-nhsuk-skip-link-init]").count()
        == 1,
    }


async def test_the_script_starts_on_every_page(page: Page, served: Served) -> None:
    everyone = {
        "login": "/staff/login",
        "join": served.join_path,
        "not-found": "/docs",
    }
    admin = {
        "clinic": "/staff/clinic",
        "reception": f"/staff/reception?site_id={served.hub_id}",
        "outbox": "/staff/outbox",
        "outbox-message": f"/staff/outbox/{served.message_id}",
        "travel-report": "/staff/reports/travel",
    }
    started: dict[str, dict[str, bool]] = {}
    for name, path in everyone.items():
        await page.goto(served.url(path))
        started[name] = await _started(page)
    await sign_in(page, served, "admin")
    for name, path in admin.items():
        response = await page.goto(served.url(path))
        assert response is not None and response.status == 200, name
        started[name] = await _started(page)
        await screenshot(page, served, f"admin-{name}")
    await page.context.clear_cookies()
    await sign_in(page, served, "analyst")
    await page.goto(served.url("/staff/clinic"))  # not the analyst's: the 403 page
    started["forbidden"] = await _started(page)
    everywhere = {"supported": True, "header": True, "skip_link": True}
    assert started == dict.fromkeys(started, everywhere)


async def test_an_empty_sign_in_names_each_field_and_takes_the_focus(
    page: Page, served: Served
) -> None:
    await page.goto(served.url("/staff/login"))
    async with page.expect_navigation():
        await page.click("button:has-text('Sign in')")
    summary = page.locator(".nhsuk-error-summary")
    assert await summary.evaluate("element => element === document.activeElement")
    links = summary.locator("a")
    assert await links.all_inner_texts() == ["Enter your email address", "Enter your password"]
    assert [await link.get_attribute("href") for link in await links.all()] == [
        "#email",
        "#password",
    ]
    for field in ("email", "password"):
        message = page.locator(f"#{field}-error")
        assert "Enter your" in await message.inner_text()
        assert await page.get_attribute(f"#{field}", "aria-describedby") == f"{field}-error"
    assert (await page.title()).startswith("Error: ")
    await screenshot(page, served, "login-empty")
    await links.nth(1).click()  # the summary's link takes the user to the field
    assert await page.evaluate("document.activeElement.id") == "password"


async def test_a_wrong_password_is_summarised_and_focused(page: Page, served: Served) -> None:
    await page.goto(served.url("/staff/login"))
    await page.fill("#email", served.email("admin"))
    await page.fill("#password", "not the password")
    async with page.expect_navigation():
        await page.click("button:has-text('Sign in')")
    summary = page.locator(".nhsuk-error-summary")
    assert await summary.evaluate("element => element === document.activeElement")
    assert await summary.locator("a").all_inner_texts() == [
        "Enter a correct email address and password"
    ]
    assert await page.input_value("#email") == served.email("admin")


@pytest.mark.parametrize(
    ("role", "path", "message"),
    [
        ("navigator", "/staff/outbox?status=lost", "Choose a status from the list"),
        ("analyst", "/staff/reports/travel?start=2026-02-30", "Start date"),
    ],
)
async def test_error_summaries_on_staff_pages_take_the_focus(
    page: Page, served: Served, role: str, path: str, message: str
) -> None:
    await sign_in(page, served, role, next_path=path)
    summary = page.locator(".nhsuk-error-summary")
    assert message in await summary.inner_text()
    assert await summary.evaluate("element => element === document.activeElement")
