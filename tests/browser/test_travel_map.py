"""The travel report's map in a real browser: drawn, the same as its table, and free of
serious or critical axe violations (WCAG 2.x A and AA), on a database of its own with travel
records (the shared browser data has none in the report's range)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest
from playwright.async_api import Browser, Page

from telehealth.kernel.auth.models import Role
from telehealth.kernel.auth.service import create_user
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.browser.harness import (
    DESKTOP,
    PASSWORD,
    PHONE,
    ROOT,
    SCREENSHOTS,
    Served,
    axe_violations,
    screenshot,
    sign_in,
)
from tests.builders import make_organisation, make_site
from tests.servers import running_servers
from tests.telehealth.travel.test_map_data import QUERY, make_district_appointments

if TYPE_CHECKING:
    from tests.conftest import Databases

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def mapped(request: pytest.FixtureRequest, databases: Databases) -> AsyncIterator[Served]:
    if not databases.available(request.param):
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    url = await databases.migrated(request.param)
    engine = create_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        clinic = await make_district_appointments(session)
        # The demo's longest names, which once made the filters' selects wider than a phone.
        trust = await make_organisation(session, name=LONG_TRUST)
        await make_site(session, organisation=trust, kind="community_hub", name=LONG_SITE)
        await create_user(session, email=Served.email(Role.ANALYST), name="Test analyst",
                          role=Role.ANALYST, password=PASSWORD)  # fmt: skip
    await engine.dispose()
    with running_servers(url, ROOT, count=1) as (base,):
        yield Served(request.param, base, join_path="", message_id=0, hub_id=clinic.hub.id)


LONG_TRUST = "University Hospitals of Morecambe Bay NHS Foundation Trust"
LONG_SITE = "Grange-over-Sands Health Centre and Community Hospital video hub (demo)"
MAP = 'svg.bt-chart[aria-labelledby^="chart-miles-avoided-by-home"]'


@asynccontextmanager
async def _report(
    browser: Browser, mapped: Served, viewport: dict[str, int]
) -> AsyncIterator[Page]:
    """The report for June 2030, as an analyst sees it at this size, in a context of its own."""
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await sign_in(page, mapped, Role.ANALYST)
        await page.goto(mapped.url(f"/staff/reports/travel?{QUERY}#map"))
        yield page
    finally:
        await context.close()


async def test_the_map_is_drawn_beside_its_table_and_passes_axe(
    browser: Browser, mapped: Served
) -> None:
    async with _report(browser, mapped, DESKTOP) as page:
        svg = page.locator(MAP)
        assert await svg.is_visible()
        box = await svg.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 300
        circles = await svg.locator("circle.bt-map__district").evaluate_all(
            "cs => cs.map(c => [c.dataset.district, c.dataset.miles])"
        )
        rows = await page.locator("#table-district tbody tr:not([data-folded])").evaluate_all(
            "rs => rs.map(r => [r.dataset.key, r.dataset.miles])"
        )
        placed = [r for r in rows if r[0] != "LA99" and float(r[1])]
        assert sorted(circles) == sorted(placed) and len(circles) >= 2
        # The key under the map numbers the sites as the map does.
        sites = await svg.locator("g.bt-map__site").evaluate_all(
            "gs => gs.map(g => [g.dataset.key, g.dataset.name])"
        )
        keys = await page.locator("#map-sites li").evaluate_all(
            "ls => ls.map(l => [l.dataset.key, l.dataset.name])"
        )
        assert keys == sites and len(sites) >= 2
        # With the browser's own font: every label inside the map, and no two overlapping.
        boxes = await svg.evaluate(
            """s => {
                const frame = s.querySelector('rect').getBBox();
                return [...s.querySelectorAll('text')]
                    .filter(t => !t.closest('.bt-map__legend'))
                    .map(t => { const b = t.getBBox();
                                return [t.textContent, b.x, b.y, b.x + b.width, b.y + b.height,
                                        frame.width, frame.height]; });
            }"""
        )
        assert len(boxes) >= len(sites) + 2
        for n, (text, x0, y0, x1, y1, width, height) in enumerate(boxes):
            assert x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height, text
            for other, a0, b0, a1, b1, *_ in boxes[n + 1 :]:
                assert x1 <= a0 or a1 <= x0 or y1 <= b0 or b1 <= y0, (text, other)
        # The small districts are one row, not on the map.
        assert await page.locator("#table-district tr[data-folded]").count() == 1
        await screenshot(page, mapped, "travel-map")
        section = SCREENSHOTS / f"travel-map-section-{mapped.dialect}.png"
        await page.locator("#map + .nhsuk-grid-row").screenshot(path=str(section))
        assert await axe_violations(page, ("serious", "critical")) == []


async def test_the_report_its_filters_and_its_map_fit_a_phone(
    browser: Browser, mapped: Served
) -> None:
    async with _report(browser, mapped, PHONE) as page:
        box = await page.locator(MAP).bounding_box()
        assert box is not None and box["width"] <= PHONE["width"]
        assert await page.locator(f'#organisation_id option:text-is("{LONG_TRUST}")').count()
        await screenshot(page, mapped, "phone-travel-map")
        # No content reaches past the page's column, not only the page's own width: NHS.UK's
        # grid and scroll wrappers bleed into the margin by design, a table container or a
        # scroll component may scroll inside it, a responsive table's head is hidden here.
        wider = await page.evaluate(
            """() => {
                const edge = document.querySelector('#maincontent').getBoundingClientRect().right;
                const content = 'select, input, button, table, svg, img, p, li, h1, h2, h3, '
                    + 'label, figcaption, dl, th, td';
                return [...document.querySelectorAll('#maincontent :is(' + content + ')')]
                    .filter(e => e.getBoundingClientRect().right > edge + 4
                        && !e.parentElement.closest('.nhsuk-table-container, .nhsuk-scroll, svg')
                        && !e.closest('.nhsuk-table--responsive thead'))
                    .map(e => `${e.tagName}#${e.id} ${e.getBoundingClientRect().right}`);
            }"""
        )
        assert wider == [], wider
        for measure in ("documentElement", "body"):
            assert await page.evaluate(f"document.{measure}.scrollWidth") <= PHONE["width"]
