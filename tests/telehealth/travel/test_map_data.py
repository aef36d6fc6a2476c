"""Miles avoided by home postcode district: the map's and the table's rows equal, they add up
to the report's headline, and no district with fewer than SMALLEST_SHOWN appointments is
shown on its own (both databases)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape

import httpx
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Patient
from telehealth.travel import pages, postcodes, records
from telehealth.travel.map import HOSPITAL, HUB, Landmark
from telehealth.travel.map_data import (
    NO_POSTCODE,
    OTHER_DISTRICTS,
    SMALLEST_SHOWN,
    DistrictRow,
    district_rows,
    fold_small,
    landmarks,
    map_context,
)
from telehealth.travel.maths import Point
from telehealth.travel.reports import ReportQuery, travel_report
from tests.builders import Clinic, make_appointment, make_clinic, make_patient, make_site, make_user
from tests.telehealth.video.test_clinic_pages import sign_in

# Real Code-Point Open positions, and a second Barrow postcode so LA14's centre is a mean.
POSITIONS = [
    ("LA1 4RP", 347761, 461046),  # Royal Lancaster Infirmary
    ("LA12 7AA", 328686, 478225),  # Ulverston
    ("LA14 1HA", 319800, 469400),  # Barrow-in-Furness
    ("LA14 5QT", 320000, 469800),
    ("LA9 7RG", 351800, 492300),  # Kendal
]
START = datetime(2030, 6, 4, 9, tzinfo=UTC)
QUERY = "start=2030-06-01&end=2030-06-30"
JUNE = ReportQuery(start=date(2030, 6, 1), end=date(2030, 6, 30))


async def _patient(session: AsyncSession, postcode: str | None) -> Patient:
    patient = await make_patient(session)
    patient.postcode = postcode
    return patient


# Home postcodes and how many attended appointments each has: Barrow (LA14) 6 over two
# postcodes, Kendal (LA9) exactly SMALLEST_SHOWN, Ulverston (LA12) one fewer, an unknown
# postcode's district 5, and one patient with no postcode.
HOMES: list[tuple[str | None, int]] = [
    ("LA14 1HA", 3),
    ("LA14 5QT", 3),
    ("LA9 7RG", 5),
    ("LA12 7AA", 4),
    ("LA99 9ZZ", 5),
    (None, 1),
]
ATTENDED = sum(n for _, n in HOMES)


async def make_district_appointments(session: AsyncSession) -> Clinic:
    """Attended appointments from HOMES, a patient each; for an Ulverston patient one booked
    still to come and one cancelled (either would lift LA12 to SMALLEST_SHOWN if counted)."""
    await postcodes.store(session, [(p, 10, e, n) for p, e, n in POSITIONS], source="test")
    c = await make_clinic(session)
    c.hub.postcode = "LA12 7AA"
    patients = [await _patient(session, home) for home, n in HOMES for _ in range(n)]
    await session.flush()
    made = [
        await make_appointment(session, c, start=START + timedelta(hours=n), patient=p,
                               status="fulfilled")
        for n, p in enumerate(patients)
    ]  # fmt: skip
    ulverston = next(p for p in patients if p.postcode == "LA12 7AA")
    made.append(  # still to come: a forecast, which the map does not draw
        await make_appointment(
            session, c, start=START + timedelta(days=2), mode="video_site", patient=ulverston
        )
    )
    made.append(
        await make_appointment(
            session, c, start=START - timedelta(days=1), patient=ulverston, status="cancelled"
        )
    )
    for a in made:
        await records.compute(session, a.id)
    return c


def _row(district: str | None, appointments: int, miles: str) -> DistrictRow:
    return DistrictRow(district, appointments, Decimal(miles), Point(0, 0) if district else None)


def test_districts_under_the_threshold_are_added_into_one_row() -> None:
    rows = [_row("LA1", 5, "40.50"), _row("LA2", 4, "12.25"), _row("LA3", 1, "-3.00"),
            _row("LA4", 12, "99.99"), _row(None, 2, "0.00")]  # fmt: skip
    folded = fold_small(rows)
    assert [r.label for r in folded] == ["LA1", "LA4", OTHER_DISTRICTS]
    assert folded[-1] == DistrictRow(None, 7, Decimal("9.25"), None, folded=True)
    assert sum(r.appointments for r in folded) == sum(r.appointments for r in rows)
    assert sum(r.avoided_miles for r in folded) == sum(r.avoided_miles for r in rows)
    assert all(r.appointments >= SMALLEST_SHOWN for r in folded if not r.folded)
    assert fold_small(rows[:1] + rows[3:4]) == rows[:1] + rows[3:4], "nothing to fold: no row"
    assert fold_small([]) == []
    assert SMALLEST_SHOWN == 5 and OTHER_DISTRICTS.startswith("Other districts (fewer than 5")


async def test_districts_add_up_to_the_headline_for_every_filter(session: AsyncSession) -> None:
    c = await make_district_appointments(session)
    queries = [
        JUNE,
        ReportQuery(start=JUNE.start, end=JUNE.end, clinician_id=c.clinician.id),
        ReportQuery(start=JUNE.start, end=JUNE.end, mode="video_site"),
        ReportQuery(start=JUNE.start, end=JUNE.end, site_id=c.hub.id),
        ReportQuery(start=date(2031, 1, 1), end=date(2031, 1, 31)),
    ]
    for q in queries:
        headline = (await travel_report(session, q))["headline"]
        for rows in (await district_rows(session, q), (await map_context(session, q))["map_rows"]):
            assert sum(r.avoided_miles for r in rows) == headline["avoided_miles"], q
            assert sum(r.appointments for r in rows) == headline["appointments"], q
    everything = await district_rows(session, JUNE)
    assert [r.label for r in everything] == ["LA9", "LA12", "LA14", "LA99", NO_POSTCODE]
    assert [r.appointments for r in everything] == [5, 4, 6, 5, 1]  # cancelled, forecast out
    assert everything[0].avoided_miles > 0  # Kendal to Lancaster, seen from home
    shown = (await map_context(session, JUNE))["map_rows"]
    assert [r.label for r in shown] == ["LA9", "LA14", "LA99", OTHER_DISTRICTS]
    assert shown[-1].appointments == 5 and shown[-1].point is None
    assert shown[-1].avoided_miles == everything[1].avoided_miles + everything[4].avoided_miles


async def test_a_district_is_placed_at_the_mean_of_all_its_postcodes(session: AsyncSession) -> None:
    await make_district_appointments(session)
    rows = {r.label: r for r in await district_rows(session, JUNE)}
    assert rows["LA14"].point == Point(319900, 469600)
    assert rows["LA9"].point == Point(351800, 492300)
    assert rows["LA99"].point is None and rows[NO_POSTCODE].point is None
    context = await map_context(session, JUNE)
    # The folded row has no position of its own, but is not "unplaced": it is not a place.
    assert context["map_unplaced"] == ["LA99"]


async def test_the_map_shows_active_hospitals_and_hubs_with_a_position(
    session: AsyncSession,
) -> None:
    c = await make_district_appointments(session)
    await make_site(session, kind="gp_practice", name="A GP practice", postcode="LA9 7RG")
    await make_site(session, name="Nowhere hospital", postcode="ZZ1 1ZZ")
    closed = await make_site(session, name="Closed hospital", postcode="LA9 7RG")
    closed.active = False
    await session.flush()
    assert await landmarks(session) == sorted(
        [
            Landmark(c.hospital.name, HOSPITAL, Point(347761, 461046)),
            Landmark(c.hub.name, HUB, Point(328686, 478225)),
        ],
        key=lambda m: m.name,
    )
    # The key under the map: the map's own numbers, hospitals first.
    context = await map_context(session, JUNE)
    assert context["map_sites"] == [(1, c.hospital.name, HOSPITAL), (2, c.hub.name, HUB)]
    for key, name, _ in context["map_sites"]:
        assert f'data-key="{key}"><title>{key}: {escape(name)}</title>' in context["travel_map"]


def _district_table(page: str) -> str:
    found = re.search(r'<table class="nhsuk-table" id="table-district">(.*?)</table>', page, re.S)
    assert found
    return found.group(1)


def _table(page: str) -> dict[str, Decimal]:
    rows = re.findall(r'data-key="([^"]*)" data-miles="([^"]*)"', _district_table(page))
    return {unescape(k): Decimal(v) for k, v in rows}


def _map(page: str) -> dict[str, Decimal]:
    found = re.search(
        r'<svg[^>]*aria-labelledby="chart-miles-avoided-by-home-.*?</svg>', page, re.S
    )
    assert found
    root = ET.fromstring(found.group(0))
    return {
        c.get("data-district", ""): Decimal(c.get("data-miles", "nan"))
        for c in root.iter("{http://www.w3.org/2000/svg}circle")
        if c.get("class") == "bt-map__district"
    }


async def _report_page(client: httpx.AsyncClient, session: AsyncSession, query: str) -> str:
    """The report page as an analyst sees it."""
    analyst, _ = await make_user(session, role="analyst")
    await sign_in(client, analyst.email)
    page = await client.get(f"/staff/reports/travel?{query}")
    assert page.status_code == 200, page.text
    return page.text


async def test_the_page_map_draws_exactly_the_table_beside_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_district_appointments(session)
    page = await _report_page(client, session, QUERY)
    table, drawn = _table(page), _map(page)
    assert set(table) == {"LA9", "LA14", "LA99", OTHER_DISTRICTS}
    placed = {k: v for k, v in table.items() if k not in ("LA99", OTHER_DISTRICTS) and v}
    assert drawn == placed and len(drawn) == 2
    assert "LA12" not in page, "a district under the threshold is named nowhere on the page"
    headline = re.search(r'data-figure="avoided_miles">([^<]*)<', page)
    # The exact rows (data-miles) add up to the headline as the page rounds it, whole miles.
    assert headline and pages.shown("avoided_miles", sum(table.values())) == headline.group(1)
    appointments = re.search(r'data-figure="appointments">([^<]*)<', page)
    counts = re.findall(
        r'<th scope="row">[^<]*</th>\s*<td class="nhsuk-table__cell bt-num">(\d+)<',
        _district_table(page),
    )
    assert appointments and appointments.group(1) == str(ATTENDED) == str(sum(map(int, counts)))
    assert len(counts) == len(table)
    assert "Not on the map (no known position): LA99." in page
    assert 'id="map-small"' in page and "fewer than 5 appointments are not drawn" in page


async def test_an_empty_selection_shows_the_message_and_an_empty_table(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    page = await _report_page(client, session, "start=2031-01-01&end=2031-01-31")
    assert "No travel avoided to map for this selection." in page
    assert _table(page) == {} and 'id="map-unplaced"' not in page
