"""Travel records as a row-level CSV for analysts: no identities, and the same figures as the
report to the penny (both databases)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Patient
from telehealth.travel import export, records
from tests.builders import make_appointment, make_clinic, make_patient, make_user
from tests.builders_journey import HOME, with_travel
from tests.builders_navpatients import audited, signed_in_as

START = datetime(2030, 6, 4, 9, tzinfo=UTC)
QUERY = "start=2030-06-01&end=2030-06-30"
SUMMED = ("avoided_km", "avoided_miles", "avoided_co2e_kg", "avoided_cost_gbp")


async def _month(session: AsyncSession) -> Patient:
    """June 2030: attended and booked appointments in every mode, one cancelled, one in July."""
    c = await make_clinic(session)
    patient = await make_patient(session, nhs_number="9434765919")
    await with_travel(session, c, patient)
    no_postcode = await make_patient(session, family_name="Nopostcode")
    no_postcode.postcode = None
    made = [
        await make_appointment(
            session, c, start=START + timedelta(hours=n), mode=mode, patient=p, status=status
        )
        for n, (mode, p, status) in enumerate(
            [
                ("video_home", patient, "fulfilled"),
                ("video_site", patient, "fulfilled"),
                ("in_person", patient, "fulfilled"),
                ("video_site", patient, "booked"),
                ("video_home", no_postcode, "fulfilled"),
                ("video_home", patient, "cancelled"),
            ]
        )
    ]
    made.append(await make_appointment(session, c, start=START + timedelta(days=30)))
    made[1].medium = "telephone"  # booked at the hub, held by telephone instead
    for a in made:
        await records.compute(session, a.id)
    return patient


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_csv_sums_to_the_report_to_the_penny(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _month(session)
    _, headers = await make_user(session, role="analyst")
    for basis, count in (("attended", 4), ("forecast", 1)):
        got = await client.get(f"/api/v1/travel/records.csv?{QUERY}&basis={basis}", headers=headers)
        assert got.status_code == 200, got.text
        assert got.headers["content-type"].startswith("text/csv")
        rows = _rows(got.text)
        whole = (await client.get(f"/api/v1/reports/travel?{QUERY}", headers=headers)).json()
        report = whole["headline"] if basis == "attended" else whole["forecast"]["headline"]
        assert len(rows) == report["appointments"] == count
        assert {r["basis"] for r in rows} == {basis}
        # A forecast's figures are named as such: what would be avoided, not what was.
        named = "avoided_" if basis == "attended" else "forecast_"
        for column in (*SUMMED, "avoided_minutes"):
            mine = column.replace("avoided_", named)
            assert sum(Decimal(r[mine]) for r in rows) == Decimal(report[column]), column
        assert sum(Decimal(r[f"{named}km"]) for r in rows) > 0  # not a sum of nothing
        assert (basis == "forecast") == all(c.startswith("forecast_") for c in list(rows[0])[-5:])
    # Nothing in the range: the header alone, the report's CSVs' rule too.
    empty = await client.get("/api/v1/travel/records.csv?start=2031-01-01&end=2031-01-31",
                             headers=headers)  # fmt: skip
    assert empty.text == ",".join(export.headers("attended")) + "\r\n"
    default = await client.get(f"/api/v1/travel/records.csv?{QUERY}", headers=headers)
    assert {r["status"] for r in _rows(default.text)} == {"fulfilled"}  # attended by default


async def test_the_csv_has_no_identities_and_the_home_as_its_district(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    patient = await _month(session)
    _, headers = await make_user(session, role="admin")
    attended = await client.get(f"/api/v1/travel/records.csv?{QUERY}", headers=headers)
    forecast = await client.get(
        f"/api/v1/travel/records.csv?{QUERY}&basis=forecast", headers=headers
    )
    text = attended.text + forecast.text
    rows = _rows(attended.text) + _rows(forecast.text)
    assert list(rows[0]) == ["basis", *export.COLUMNS]
    assert list(_rows(forecast.text)[0]) == export.headers("forecast")
    # As the record's API says it: the telephone consultation, and no other.
    assert [r["seen_by_telephone"] for r in _rows(attended.text)] == [
        "false",
        "true",
        "false",
        "false",
    ]
    for identity in (
        patient.given_name,
        patient.family_name,
        "Nopostcode",
        "9434765919",
        patient.date_of_birth.isoformat(),
        patient.date_of_birth.strftime("%d/%m/%Y"),
        HOME[0],
        HOME[0].split(" ")[1],
        "@example.com",
    ):
        assert identity not in text, identity
    assert {r["home_district"] for r in rows} == {"LA14", ""}
    assert {r["home_icc"] for r in rows} == {"Barrow", "Unknown"}  # no postcode: not known
    first = rows[0]
    assert (first["date"], first["mode"], first["method"], first["factor_version"]) == (
        "2030-06-04",
        "video_home",
        "land",
        "2026.1",
    )
    assert first["site"] == "" and first["service"] and first["reference"]


async def test_only_analysts_and_admins_export(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    _, headers = await make_user(session, role="navigator")
    got = await client.get(f"/api/v1/travel/records.csv?{QUERY}", headers=headers)
    assert got.status_code == 403
    _, headers = await make_user(session, role="analyst")
    bad = await client.get(
        "/api/v1/travel/records.csv?start=2030-06-30&end=2030-06-01", headers=headers
    )
    assert bad.status_code == 422 and "end" in bad.json()["error"]["fields"]


async def test_the_report_page_links_the_csv_for_its_filter(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _month(session)
    analyst, _ = await signed_in_as(client, session, "analyst")
    page = await client.get(f"/staff/reports/travel?{QUERY}")
    assert page.status_code == 200
    link = QUERY.replace("&", "&amp;")
    assert f'href="/staff/reports/travel-records.csv?{link}"' in page.text
    got = await client.get(f"/staff/reports/travel-records.csv?{QUERY}&basis=attended")
    assert got.status_code == 200
    assert "attachment" in got.headers["content-disposition"]
    assert len(_rows(got.text)) == 4
    events = await audited(session, analyst, "travel.records_csv")
    assert [e.detail["rows"] for e in events] == [4]


def test_a_text_cell_is_never_taken_for_a_formula() -> None:
    row = ["=HYPERLINK(1)", *([None] * (len(export.COLUMNS) - 1))]
    text = export.csv_of([row])
    assert _rows(text)[0]["reference"] == "'=HYPERLINK(1)"
    malformed = ["A1", "2030-06-04", "S", "m", "", "", "not a postcode"]
    text = export.csv_of([malformed + [None] * (len(export.COLUMNS) - len(malformed))])
    assert _rows(text)[0]["home_district"] == ""  # only a district ever leaves, or nothing
