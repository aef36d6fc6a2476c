"""What the travel report counts, by which community, and that its totals add up (both
databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Appointment, Patient
from telehealth.travel import postcodes, records
from telehealth.travel.reports import ROWS, ReportQuery, months, travel_report
from tests.builders import Clinic, make_appointment, make_clinic, make_patient

HOSPITAL = ("LA1 4RP", 347761, 461046)
HUB = ("LA12 7AA", 328686, 478225)  # Ulverston
HOME = ("LA14 1HA", 319800, 469400)  # Barrow
START = datetime(2030, 6, 4, 9, tzinfo=UTC)
NOW = datetime(2030, 6, 10, 12, tzinfo=UTC)
JUNE = ReportQuery(date(2030, 6, 1), date(2030, 6, 30))
SUMMED = ("appointments", "avoided_km", "avoided_miles", "avoided_minutes", "avoided_co2e_kg",
          "avoided_cost_gbp")  # fmt: skip


async def _setup(session: AsyncSession) -> tuple[Clinic, Patient]:
    await postcodes.store(
        session, [(p, 10, e, n) for p, e, n in (HOSPITAL, HUB, HOME)], source="test"
    )
    c = await make_clinic(session)
    c.hub.postcode, c.hub.icc = HUB[0], "Ulverston"
    c.hospital.postcode = HOSPITAL[0]
    patient = await make_patient(session)
    patient.postcode = HOME[0]
    await session.flush()
    return c, patient


async def _seen(
    session: AsyncSession,
    c: Clinic,
    start: datetime,
    *,
    patient: Patient,
    mode: str = "video_home",
    status: str = "fulfilled",
    medium: str | None = None,
) -> Appointment:
    a = await make_appointment(session, c, start=start, mode=mode, patient=patient, status=status)
    a.medium = medium
    await session.flush()
    await records.compute(session, a.id)
    return a


async def _mixed(session: AsyncSession) -> dict[str, Appointment]:
    """One of each outcome in June 2030, with NOW on the 10th."""
    c, patient = await _setup(session)
    hours = (START + timedelta(hours=n) for n in range(10))
    later = (NOW + timedelta(days=n) for n in range(1, 10))
    return {
        "video": await _seen(session, c, next(hours), patient=patient),
        "telephone": await _seen(
            session, c, next(hours), patient=patient, mode="in_person", medium="telephone"
        ),
        "noshow": await _seen(session, c, next(hours), patient=patient, status="noshow"),
        "cancelled": await _seen(session, c, next(hours), patient=patient, status="cancelled"),
        "no_outcome": await _seen(session, c, next(hours), patient=patient, status="booked"),
        "to_come": await _seen(session, c, next(later), patient=patient, status="booked"),
        "to_come_hub": await _seen(
            session, c, next(later), patient=patient, mode="video_site", status="booked"
        ),
        "to_come_cancelled": await _seen(
            session, c, next(later), patient=patient, status="cancelled"
        ),
    }


def _keys(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {r["key"]: r["appointments"] for r in rows}


async def test_attended_is_avoided_the_future_a_forecast_and_missed_or_cancelled_nothing(
    session: AsyncSession,
) -> None:
    made = await _mixed(session)
    report = await travel_report(session, JUNE, now=NOW)
    record = {
        name: await records.compute(session, a.id) for name, a in made.items()
    }  # recomputing changes nothing: the same records
    assert not any(outcome.changed for outcome in record.values())
    avoided = report["headline"]
    assert avoided["appointments"] == 2  # seen by video, and by telephone instead
    phone = record["telephone"].record
    assert phone.avoided_km == phone.baseline_km > 0  # telephone: nobody travelled
    assert avoided["avoided_km"] == record["video"].record.avoided_km + phone.avoided_km
    assert _keys(report["by_mode"]) == {"in_person": 1, "video_home": 1}  # as booked
    forecast = report["forecast"]
    assert forecast["basis"] == "forecast" and forecast["headline"]["appointments"] == 2
    assert _keys(forecast["by_mode"]) == {"video_home": 1, "video_site": 1}
    expected = sum(record[n].record.avoided_km for n in ("to_come", "to_come_hub"))
    assert forecast["headline"]["avoided_km"] == expected
    assert report["methodology"]["quality"][0]["appointments"] == 2  # the attended alone
    # A day later the first booking still to come has not happened: no longer a forecast,
    # and (no outcome recorded) not travel avoided either.
    after = await travel_report(session, JUNE, now=NOW + timedelta(days=1, hours=1))
    assert after["forecast"]["headline"]["appointments"] == 1
    assert after["headline"]["appointments"] == 2


async def test_home_community_and_place_of_appointment_are_reported_apart(
    session: AsyncSession,
) -> None:
    c, barrow = await _setup(session)
    morecambe = await make_patient(session, family_name="Other")  # LA4 5RJ
    await _seen(session, c, START, patient=barrow, mode="in_person")
    await _seen(session, c, START + timedelta(hours=1), patient=barrow, mode="video_site")
    await _seen(session, c, START + timedelta(hours=2), patient=morecambe, mode="in_person")
    report = await travel_report(session, JUNE, now=NOW)
    assert _keys(report["by_icc"]) == {"Lancaster": 2, "Ulverston": 1}  # where they were seen
    assert _keys(report["by_home_icc"]) == {"Barrow": 2, "Morecambe": 1}  # where they live
    assert "place of appointment" in report["definitions"]["by_icc"]
    assert "patient's home" in report["definitions"]["by_home_icc"]
    narrowed = await travel_report(
        session, ReportQuery(JUNE.start, JUNE.end, icc="Lancaster"), now=NOW
    )
    assert _keys(narrowed["by_home_icc"]) == {"Barrow": 1, "Morecambe": 1}


async def test_every_total_is_the_sum_of_its_rows(session: AsyncSession) -> None:
    made = await _mixed(session)
    c, _ = await _setup(session)
    other = await make_patient(session, family_name="Other")
    for n, mode in enumerate(("video_site", "video_home", "in_person")):
        start = START + timedelta(days=20, hours=n)  # the 24th: after NOW, a forecast
        await _seen(session, c, start - timedelta(days=18), patient=other, mode=mode)
        await _seen(session, c, start, patient=other, mode=mode, status="booked")
    assert len(made) == 8
    report = await travel_report(session, JUNE, now=NOW)
    for part in (report, report["forecast"]):
        assert part["headline"]["appointments"] >= 4
        for breakdown in ROWS:
            rows = part[breakdown]
            assert len(rows) >= 1, breakdown
            for measure in SUMMED:
                total = sum((Decimal(r[measure]) for r in rows), Decimal(0))
                assert total == Decimal(part["headline"][measure]), (breakdown, measure)
    assert report["headline"]["avoided_minutes"] > 0


def test_a_range_has_every_month_it_touches_across_a_new_year() -> None:
    assert months(date(2030, 11, 15), date(2031, 2, 1)) == [
        "2030-11",
        "2030-12",
        "2031-01",
        "2031-02",
    ]
    assert months(date(2030, 6, 1), date(2030, 6, 30)) == ["2030-06"]
