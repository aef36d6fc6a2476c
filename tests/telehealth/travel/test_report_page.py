"""The analysts' travel report page and its CSV: the same figures as the API (both databases)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from telehealth.kernel.audit import AuditEvent
from telehealth.travel import pages, postcodes, records
from telehealth.travel.reports import MEASURES, measure_names
from tests.builders import make_appointment, make_clinic, make_patient, make_user
from tests.telehealth.video.test_clinic_pages import sign_in

HOSPITAL = ("LA1 4RP", 347761, 461046)
# A hub on the patient's side of the Bay: once journeys go round the water, a Morecambe hub
# (LA4) is no nearer to Barrow than the Lancaster hospital is.
HUB = ("LA12 7AA", 328686, 478225)  # Ulverston
HOME = ("LA14 1HA", 319800, 469400)
START = datetime(2030, 6, 4, 9, tzinfo=UTC)
FULFILLED = "fulfilled"
QUERY = "start=2030-05-01&end=2030-07-31"


async def _appointments(session: AsyncSession) -> None:
    """Attended: video from home and at a hub in June, the hub and in person in July; the hub
    in its own ICC. Still booked (a forecast, as 2030 is to come): two more in July. Missed
    and cancelled: one each in June, counting nothing."""
    await postcodes.store(
        session, [(p, 10, e, n) for p, e, n in (HOSPITAL, HUB, HOME)], source="test"
    )
    c = await make_clinic(session)
    c.hub.postcode = HUB[0]
    c.hub.icc = "Bay & <Coast>"
    patient = await make_patient(session)
    patient.postcode = HOME[0]
    await session.flush()
    made = [
        await make_appointment(
            session, c, start=START, mode="video_home", patient=patient, status=FULFILLED
        ),
        await make_appointment(
            session, c, start=START + timedelta(hours=1), mode="video_home", patient=patient,
            status=FULFILLED,
        ),
        await make_appointment(
            session, c, start=START + timedelta(hours=2), mode="video_site", patient=patient,
            status=FULFILLED,
        ),
        await make_appointment(
            session, c, start=START + timedelta(days=30), mode="video_site", patient=patient,
            status=FULFILLED,
        ),
        await make_appointment(
            session, c, start=START + timedelta(days=30, hours=1), mode="in_person",
            status=FULFILLED,
        ),
        await make_appointment(
            session, c, start=START + timedelta(days=31), mode="video_home", patient=patient
        ),
        await make_appointment(
            session, c, start=START + timedelta(days=31, hours=1), mode="video_site",
            patient=patient,
        ),
        await make_appointment(
            session, c, start=START + timedelta(hours=3), patient=patient, status="noshow"
        ),
        await make_appointment(
            session, c, start=START + timedelta(hours=4), patient=patient, status="cancelled"
        ),
    ]  # fmt: skip
    for a in made:
        await records.compute(session, a.id)


def _figure(page: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', page)
    assert found, name
    return found.group(1)


def _keys(page: str, table: str) -> list[str]:
    found = re.search(rf'<table class="nhsuk-table" id="table-{table}">(.*?)</table>', page, re.S)
    assert found, table
    return [unescape(k) for k in re.findall(r'data-key="([^"]*)"', found.group(1))]


async def test_page_shows_the_api_figures_rounded_as_people_read_them(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _appointments(session)
    analyst, headers = await make_user(session, role="analyst")
    await sign_in(client, analyst.email)
    page = await client.get(f"/staff/reports/travel?{QUERY}")
    assert page.status_code == 200, page.text
    report = (await client.get(f"/api/v1/reports/travel?{QUERY}", headers=headers)).json()
    assert report["headline"]["appointments"] == 5
    assert report["forecast"]["headline"]["appointments"] == 2
    for name, value in report["headline"].items():
        if name != "avoided_minutes":  # the page shows hours
            assert _figure(page.text, name) == pages.shown(name, value), name
            forecast = report["forecast"]["headline"][name]
            assert _figure(page.text, f"forecast_{name}") == pages.shown(name, forecast), name
    assert "." not in _figure(page.text, "avoided_miles") + _figure(page.text, "avoided_km")
    assert re.fullmatch(r"[\d,]+\.\d\d", _figure(page.text, "avoided_cost_gbp"))
    assert _figure(page.text, "pending") == str(report["methodology"]["pending"])
    assert report["methodology"]["attribution"] in unescape(page.text)
    assert "Bay &amp; &lt;Coast&gt;" in page.text and "<Coast>" not in page.text
    main = page.text.split('id="maincontent"', 1)[1]  # the header's NHS logo is an image too
    assert main.count('role="img"') == 3  # two charts and the map
    assert (
        "land estimator" in page.text and "Forecast: booked appointments still to come" in page.text
    )
    # Every month of the range, May's none a zero row, not a gap that reads as missing data.
    assert _keys(page.text, "month") == ["2030-05", "2030-06", "2030-07"]
    assert _keys(page.text, "forecast_month") == ["2030-05", "2030-06", "2030-07"]
    assert "May 2030: 0 miles" in page.text  # the month chart's description, and its column
    assert "Travel it would avoid" in page.text
    forecast = page.text.split('id="forecast"', 1)[1]
    assert "Km forecast" in forecast and "Km avoided" not in forecast
    assert sorted(_keys(page.text, "icc")) == sorted(r["key"] for r in report["by_icc"])
    assert _keys(page.text, "home_icc") == ["Barrow", "Morecambe"]  # LA14, LA4
    assert "Travel avoided by place of appointment (ICC)" in unescape(page.text)
    assert "Forecast by patient's home community (ICC)" in unescape(page.text)
    viewed = await session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "report.travel.view", AuditEvent.actor_user_id == analyst.id
        )
    )
    assert viewed is not None and viewed.detail["start"] == "2030-05-01"


async def test_each_csv_says_its_basis_and_a_forecast_is_never_named_avoided(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _appointments(session)
    _, headers = await make_user(session, role="analyst")

    async def read(query: str) -> list[list[str]]:
        got = await client.get(f"/api/v1/reports/travel.csv?{query}", headers=headers)
        assert got.status_code == 200, got.text
        return list(csv.reader(io.StringIO(got.text)))

    attended = await read(f"{QUERY}&by=month&basis=attended")
    forecast = await read(f"{QUERY}&by=month&basis=forecast")
    assert attended[0] == ["basis", "month", *MEASURES]
    assert forecast[0] == ["basis", "month", "appointments", "forecast_km", "forecast_miles",
                           "forecast_minutes", "forecast_hours", "forecast_co2e_kg",
                           "forecast_cost_gbp"]  # fmt: skip
    assert not any("avoided" in name for name in forecast[0])
    # Every month of the range, an empty one a zero row; each row names its part.
    assert [r[:2] for r in attended[1:]] == [["attended", f"2030-0{m}"] for m in (5, 6, 7)]
    assert [r[:3] for r in forecast[1:]] == [["forecast", "2030-05", "0"],
                                            ["forecast", "2030-06", "0"],
                                            ["forecast", "2030-07", "2"]]  # fmt: skip
    # One rule for an empty selection, whatever the breakdown: the header alone.
    for by in ("headline", "mode", "month", "icc", "home_icc"):
        for basis in ("attended", "forecast"):
            empty = await read(f"start=2031-01-01&end=2031-03-31&by={by}&basis={basis}")
            assert empty == [["basis", by, *measure_names(basis)]], (by, basis)


async def test_csv_downloads_equal_the_api_byte_for_byte(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _appointments(session)
    analyst, headers = await make_user(session, role="analyst")
    await sign_in(client, analyst.email)
    # An old link's basis=booked is set aside: the page shows both parts.
    page = await client.get(f"/staff/reports/travel?{QUERY}&basis=booked&mode=video_site")
    assert page.status_code == 200
    links = [
        unescape(h) for h in re.findall(r'href="(/staff/reports/travel\.csv\?[^"]+)"', page.text)
    ]
    assert len(links) == 10 and all("mode=video_site" in link for link in links)
    assert sum("basis=forecast" in link for link in links) == 5
    for basis in ("attended", "forecast"):
        for by in ("headline", "mode", "month", "icc", "home_icc"):
            query = f"{QUERY}&by={by}&basis={basis}"
            mine = await client.get(f"/staff/reports/travel.csv?{query}")
            api = await client.get(f"/api/v1/reports/travel.csv?{query}", headers=headers)
            assert mine.status_code == api.status_code == 200
            assert mine.content == api.content and mine.content.count(b"\r\n") >= 2
            assert mine.headers["content-disposition"] == api.headers["content-disposition"]
            assert mine.headers["content-type"] == api.headers["content-type"]
            assert (
                f"travel-{'avoided' if basis == 'attended' else 'forecast'}-"
                in (mine.headers["content-disposition"])
            )
    report = (await client.get(f"/api/v1/reports/travel?{QUERY}", headers=headers)).json()
    exact = await client.get(f"/api/v1/reports/travel.csv?{QUERY}&by=headline", headers=headers)
    row = next(csv.DictReader(io.StringIO(exact.text)))
    assert {k: row[k] for k in report["headline"]} == {
        k: str(v) for k, v in report["headline"].items()
    }  # the CSV keeps the exact values the JSON has


async def test_only_analysts_navigators_and_admins_see_the_report(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    anonymous = await client.get("/staff/reports/travel")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/staff/login")
    clinician, _ = await make_user(session, role="clinician")
    await sign_in(client, clinician.email)
    assert (await client.get("/staff/reports/travel")).status_code == 403
    assert (await client.get(f"/staff/reports/travel.csv?{QUERY}")).status_code == 403
    for role in ("navigator", "admin"):
        user, _ = await make_user(session, role=role)
        await sign_in(client, user.email)
        assert (await client.get("/staff/reports/travel")).status_code == 200


async def test_default_range_is_the_last_twelve_full_months(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    assert pages.last_full_months(date(2026, 3, 15)) == (date(2025, 3, 1), date(2026, 2, 28))
    assert pages.last_full_months(date(2026, 1, 1)) == (date(2025, 1, 1), date(2025, 12, 31))
    analyst, _ = await make_user(session, role="analyst")
    await sign_in(client, analyst.email)
    page = await client.get("/staff/reports/travel?organisation_id=&mode=")
    assert page.status_code == 200
    start = re.search(r'id="start" name="start" type="date" value="([^"]+)"', page.text)
    assert start and start.group(1).endswith("-01")


async def test_a_bad_range_is_an_error_summary_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    analyst, _ = await make_user(session, role="analyst")
    await sign_in(client, analyst.email)
    page = await client.get("/staff/reports/travel?start=2030-06-30&end=2030-06-01")
    assert page.status_code == 422
    assert "nhsuk-error-summary" in page.text and 'data-field="end"' in page.text
    assert "must not be before start" in page.text and 'href="#end"' in page.text
    assert 'value="2030-06-30"' in page.text  # what was typed is kept
    garbled = await client.get("/staff/reports/travel?start=soon&end=2030-06-01&site_id=x")
    assert garbled.status_code == 422
    assert 'data-field="start"' in garbled.text and 'data-field="site_id"' in garbled.text
    bad_csv = await client.get("/staff/reports/travel.csv?start=2030-06-30&end=2030-06-01")
    assert bad_csv.status_code == 422


async def test_sorting_a_table_reorders_its_rows(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _appointments(session)
    analyst, _ = await make_user(session, role="analyst")
    await sign_in(client, analyst.email)
    by_name = await client.get(f"/staff/reports/travel?{QUERY}")
    assert _keys(by_name.text, "mode") == ["in_person", "video_home", "video_site"]
    by_miles = await client.get(f"/staff/reports/travel?{QUERY}&sort_mode=-avoided_miles")
    assert _keys(by_miles.text, "mode") == ["video_home", "video_site", "in_person"]
    rising = await client.get(f"/staff/reports/travel?{QUERY}&sort_mode=avoided_miles")
    assert _keys(rising.text, "mode") == ["in_person", "video_site", "video_home"]
    head = re.search(
        r'<th scope="col"[^>]*aria-sort="ascending"[^>]*><a href="([^"]+)"', rising.text
    )
    assert head and "sort_mode=-avoided_miles" in unescape(head.group(1))
    assert _keys(rising.text, "month") == ["2030-05", "2030-06", "2030-07"]  # others unsorted
    months = await client.get(f"/staff/reports/travel?{QUERY}&sort_month=-key")
    assert _keys(months.text, "month") == ["2030-07", "2030-06", "2030-05"]


async def test_out_of_range_dates_ids_and_nul_are_errors_naming_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Year 9999 (a day past it overflowed), ids past the columns and NUL (PostgreSQL refuses
    it, SQLite stored it) are each an error summary on the page, and a 422 from the CSV."""
    analyst, _ = await make_user(session, role="analyst")
    await sign_in(client, analyst.email)
    for query, field in [
        ("start=9999-12-01&end=9999-12-31", "start"),
        ("start=2030-06-01&end=9999-12-31", "end"),
        ("start=0001-01-01&end=0001-01-31", "start"),
        ("start=2030-06-01&end=2030-06-30&site_id=99999999999999999999", "site_id"),
        ("start=2030-06-01&end=2030-06-30&clinician_id=2147483648", "clinician_id"),
        ("start=2030-06-01&end=2030-06-30&icc=Bay%00Coast", "icc"),
    ]:
        page = await client.get(f"/staff/reports/travel?{query}")
        assert page.status_code == 422, (query, page.text)
        assert f'data-field="{field}"' in page.text, query
        csv = await client.get(f"/staff/reports/travel.csv?{query}")
        assert csv.status_code == 422, (query, csv.text)


def test_figures_are_rounded_as_people_read_them() -> None:
    assert pages.shown("avoided_miles", Decimal("1234.50")) == "1,235"
    assert pages.shown("avoided_km", Decimal("-0.49")) == "0"
    assert pages.shown("avoided_km", Decimal("-0.5")) == "-1"
    assert pages.shown("avoided_hours", Decimal("2.449")) == "2.4"
    assert pages.shown("avoided_hours", Decimal("2.450")) == "2.5"
    assert pages.shown("avoided_co2e_kg", Decimal("10.049")) == "10.0"
    assert pages.shown("avoided_cost_gbp", Decimal("1234.5")) == "1,234.50"
    assert pages.shown("appointments", 1200) == "1,200"
