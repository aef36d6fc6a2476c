"""The day screens on a 390 px phone: nothing is wider than the screen, so nothing needs
scrolling sideways, and the header's navigation still fits."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from tests.browser.harness import PHONE, Served, screenshot, sign_in

pytestmark = pytest.mark.slow


async def _overflow(page: Page) -> dict[str, int]:
    return {
        "document": await page.evaluate("document.documentElement.scrollWidth"),
        "body": await page.evaluate("document.body.scrollWidth"),
    }


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("clinician", "/staff/clinic"),
        ("navigator", "/staff/reception?site_id={hub}"),
        ("navigator", "/staff/outbox"),
    ],
)
async def test_screens_fit_a_phone(page: Page, served: Served, role: str, path: str) -> None:
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await sign_in(page, served, role, next_path=path.format(hub=served.hub_id))
    assert await page.locator("tbody tr[data-appointment], tbody tr[data-status]").count() >= 1
    await screenshot(page, served, f"phone-{role}-{path.split('?')[0].rsplit('/', 1)[-1]}")
    widths = await _overflow(page)
    assert max(widths.values()) <= PHONE["width"], widths


async def test_the_travel_report_fits_a_phone(page: Page, served: Served) -> None:
    await page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    await sign_in(page, served, "analyst", next_path="/staff/reports/travel")
    await screenshot(page, served, "phone-analyst-travel")
    widths = await _overflow(page)
    assert max(widths.values()) <= PHONE["width"], widths
