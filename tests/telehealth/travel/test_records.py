"""Travel records in the database, and the report built from them (both databases)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduling import clinic
from scheduling.models import Patient
from scheduling.slots import to_london
from scheduling.transitions import Action
from telehealth.travel import land, postcodes, recompute, records
from telehealth.travel.maths import Point
from telehealth.travel.models import AppointmentTravel, TravelQueue
from tests.builders import Clinic, make_appointment, make_clinic, make_patient, make_user

HOSPITAL = ("LA1 4RP", 347761, 461046)  # Royal Lancaster Infirmary (REFERENCE.md)
# A hub on the patient's side of the Bay: once journeys go round the water, a Morecambe hub
# (LA4) is no nearer to Barrow than the Lancaster hospital is.
HUB = ("LA12 7AA", 328686, 478225)  # Ulverston
HOME = ("LA14 1HA", 319800, 469400)
START = datetime(2030, 6, 4, 9, tzinfo=UTC)


def _round_trip_km(a: tuple[str, int, int], b: tuple[str, int, int]) -> Decimal:
    """What the land estimator (the first in the offline chain to know) makes of a to b."""
    one_way = land.road_km(land.bay_grid(), Point(a[1], a[2]), Point(b[1], b[2]))
    assert one_way is not None
    return (2 * Decimal(f"{one_way:.3f}")).quantize(Decimal("0.01"))


async def _setup(session: AsyncSession) -> tuple[Clinic, Patient]:
    await postcodes.store(
        session, [(p, 10, e, n) for p, e, n in (HOSPITAL, HUB, HOME)], source="test"
    )
    c = await make_clinic(session)
    c.hub.postcode = HUB[0]
    patient = await make_patient(session)
    patient.postcode = HOME[0]
    await session.flush()
    return c, patient


async def test_each_mode_records_what_it_avoided(session: AsyncSession) -> None:
    c, patient = await _setup(session)
    made = {}
    for n, mode in enumerate(("video_home", "video_site", "in_person")):
        a = await make_appointment(
            session, c, start=START + timedelta(hours=n), mode=mode, patient=patient
        )
        made[mode] = (await records.compute(session, a.id)).record
    baseline = _round_trip_km(HOME, HOSPITAL)
    hub_trip = _round_trip_km(HOME, HUB)
    assert made["video_home"].baseline_km == baseline == made["video_home"].avoided_km
    assert made["video_home"].actual_km == 0
    assert made["video_site"].actual_km == hub_trip
    assert made["video_site"].avoided_km == baseline - hub_trip
    assert made["in_person"].avoided_km == 0
    for record in made.values():
        assert (record.method, record.confidence, record.factor_version) == (
            "land",
            "medium",
            "2026.1",
        )
        assert record.avoided_cost_gbp == (record.avoided_miles * Decimal("0.55")).quantize(
            Decimal("0.01")
        )


async def test_stale_records_follow_changes(session: AsyncSession) -> None:
    c, patient = await _setup(session)
    a = await make_appointment(session, c, start=START, mode="video_site", patient=patient)
    assert a.id in await records.stale(session)  # queued by the database on insert
    await records.compute(session, a.id)
    await session.execute(delete(TravelQueue))  # what the worker does once it has computed
    assert a.id not in await records.stale(session)
    now = START + timedelta(minutes=5)
    await clinic.apply(
        session, a, Action.SWITCH_TO_PHONE, actor="staff", actor_user_id=None, now=now
    )
    assert a.id in await records.stale(session)
    record = (await records.compute(session, a.id)).record
    assert record.actual_km == 0 and record.avoided_km == record.baseline_km


async def test_an_unknown_postcode_is_reported_not_guessed(session: AsyncSession) -> None:
    c, patient = await _setup(session)
    patient.postcode = "LA9 9ZZ"
    a = await make_appointment(session, c, start=START, patient=patient)
    record = (await records.compute(session, a.id)).record
    assert (record.method, record.confidence, record.avoided_km) == ("none", "none", Decimal(0))
    assert (
        record.note and "not in the Code-Point data" in record.note and "LA9 9ZZ" not in record.note
    )


async def test_report_totals_equal_the_records_and_csv_agrees(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c, patient = await _setup(session)
    other = await make_patient(session, family_name="Other")
    other.postcode = HOME[0]
    kept = [
        await make_appointment(
            session,
            c,
            start=START + timedelta(hours=n),
            mode=m,
            patient=patient,
            status="fulfilled",
        )
        for n, m in enumerate(("video_home", "video_site", "video_home"))
    ]
    dropped = await make_appointment(session, c, start=START + timedelta(hours=5), patient=other)
    for a in [*kept, dropped]:
        await records.compute(session, a.id)
    await clinic.apply(
        session, dropped, Action.CANCEL, actor="staff", actor_user_id=None, reason="x"
    )
    await records.compute(session, dropped.id)
    _, headers = await make_user(session, role="analyst")
    day = to_london(START).date()
    query = f"start={day}&end={day + timedelta(days=1)}"
    report = (await client.get(f"/api/v1/reports/travel?{query}", headers=headers)).json()
    expected_km = await session.scalar(
        select(func.sum(AppointmentTravel.avoided_km)).where(
            AppointmentTravel.appointment_id.in_([a.id for a in kept])
        )
    )
    assert report["headline"]["appointments"] == 3
    assert Decimal(report["headline"]["avoided_km"]) == expected_km
    assert sum(Decimal(r["avoided_km"]) for r in report["by_mode"]) == expected_km
    assert [r["key"] for r in report["by_month"]] == [day.strftime("%Y-%m")]
    assert report["methodology"]["estimated_share"] == 1.0
    assert "Crown copyright" in report["methodology"]["attribution"]
    assert report["forecast"]["headline"]["appointments"] == 0  # all attended, none to come
    download = await client.get(f"/api/v1/reports/travel.csv?{query}&by=mode", headers=headers)
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert {r["mode"]: r["avoided_cost_gbp"] for r in rows} == {
        r["key"]: r["avoided_cost_gbp"] for r in report["by_mode"]
    }
    _, navigator = await make_user(session, role="navigator")
    assert (
        await client.get(f"/api/v1/reports/travel?{query}", headers=navigator)
    ).status_code == 403
    backwards = await client.get(
        f"/api/v1/reports/travel?start={day}&end={day - timedelta(days=1)}", headers=headers
    )
    assert backwards.status_code == 422 and "end" in backwards.json()["error"]["fields"]


async def test_travel_options_for_a_patient(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c, patient = await _setup(session)
    c.hospital.postcode = HOSPITAL[0]
    await session.flush()
    _, headers = await make_user(session, role="navigator")
    found = await client.get(
        f"/api/v1/travel/options?patient_id={patient.id}&service_id={c.service.id}", headers=headers
    )
    assert found.status_code == 200, found.text
    options = found.json()["options"]
    assert options[0] == {
        "mode": "video_home",
        "site_id": None,
        "site_name": None,
        "round_trip_miles": "0",
        "method": "none",
    }
    by_mode = {o["mode"]: o for o in options}
    assert by_mode["video_site"]["site_id"] == c.hub.id
    assert by_mode["in_person"]["site_id"] == c.hospital.id
    assert Decimal(by_mode["video_site"]["round_trip_miles"]) < Decimal(
        by_mode["in_person"]["round_trip_miles"]
    )


async def test_booking_queues_the_record_and_the_worker_computes_it(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    from datetime import time as clock

    from scheduling.slots import london_datetime
    from tests.builders import next_weekday

    c, patient = await _setup(session)
    _, headers = await make_user(session, role="navigator")
    start = london_datetime(next_weekday(1, weeks=2), clock(9))
    booked = await client.post(
        "/api/v1/appointments",
        json={
            "service_id": c.service.id,
            "clinician_id": c.clinician.id,
            "start": start.isoformat(),
            "mode": "video_home",
            "patient": patient.id,
        },
        headers=headers,
    )
    assert booked.status_code == 201
    appointment_id = booked.json()["id"]
    assert await records.stale(session) == [appointment_id]
    assert await records.refresh(sessionmaker) == 1
    assert await records.stale(session) == []
    record = await session.get(AppointmentTravel, appointment_id)
    assert record is not None and record.avoided_km == _round_trip_km(HOME, HOSPITAL)
    await client.post(
        f"/api/v1/appointments/{appointment_id}/cancel", json={"reason": "x"}, headers=headers
    )
    assert await records.stale(session) == [appointment_id]
    await records.refresh(sessionmaker)
    await session.refresh(record)
    assert record.status == "cancelled"


async def test_new_factors_change_nothing_until_recompute_says_what_changed(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from datetime import date

    from telehealth.travel.models import TravelFactors

    c, patient = await _setup(session)
    a = await make_appointment(session, c, start=START, patient=patient)
    before = (await records.compute(session, a.id)).record
    old_cost, old_version = before.avoided_cost_gbp, before.factor_version
    session.add(
        TravelFactors(
            version="2029.1",
            valid_from=date(2029, 4, 6),
            co2e_kg_per_km=Decimal("0.15"),
            co2e_source="test",
            cost_per_mile=Decimal("0.60"),
            cost_source="test",
            average_speed_kmh=Decimal("48"),
            default_circuity=Decimal("1.3"),
            site_circuity={},
        )
    )
    await session.flush()
    # Adding a factor set rewrites nothing by itself: the stored record keeps its version.
    stored = await session.get(AppointmentTravel, a.id)
    assert stored is not None and (stored.factor_version, stored.avoided_cost_gbp) == (
        old_version,
        old_cost,
    )
    summary = await recompute.recompute_all(sessionmaker)
    assert summary.changed == 1
    assert summary.by_version == {("2026.1", "2029.1"): 1}
    assert "1 moved from factor set 2026.1 to 2029.1" in summary.describe()
    await session.refresh(stored)
    assert stored.factor_version == "2029.1"
    assert stored.avoided_cost_gbp == (stored.avoided_miles * Decimal("0.60")).quantize(
        Decimal("0.01")
    )


async def test_the_record_keeps_the_home_community_and_no_more_of_the_postcode(
    session: AsyncSession,
) -> None:
    c, patient = await _setup(session)  # LA14 1HA, seen for a Lancaster service
    a = await make_appointment(session, c, start=START, patient=patient)
    record = (await records.compute(session, a.id)).record
    assert (record.home_icc, record.icc) == ("Barrow", "Lancaster")
    assert record.starts_at == START
    kept = [str(getattr(record, column.key)) for column in AppointmentTravel.__table__.columns]
    assert not any("LA14" in value for value in kept)
    patient.postcode = None
    await session.flush()
    assert (await records.compute(session, a.id)).record.home_icc == "Unknown"
