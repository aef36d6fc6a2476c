"""`travel recompute` (telehealth/travel/recompute.py): the worker's records, in batches,
through the configured chain, saying what moved (both databases)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scheduling.models import Appointment, Patient
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.travel import land, postcodes, recompute, records
from telehealth.travel.estimators import Journey, OsrmEstimator
from telehealth.travel.maths import Leg, Point
from telehealth.travel.models import AppointmentTravel
from tests.builders import Clinic, make_appointment, make_clinic, make_patient

HOSPITAL = ("LA1 4RP", 347761, 461046)  # Royal Lancaster Infirmary (REFERENCE.md)
HUB = ("LA12 7AA", 328686, 478225)  # Ulverston
HOME = ("LA14 1HA", 319800, 469400)  # Barrow
START = datetime(2030, 6, 4, 9, tzinfo=UTC)
COLUMNS = [c.key for c in AppointmentTravel.__table__.columns if c.key != "computed_at"]


async def _setup(session: AsyncSession) -> tuple[Clinic, Patient]:
    await postcodes.store(
        session, [(p, 10, e, n) for p, e, n in (HOSPITAL, HUB, HOME)], source="test"
    )
    c = await make_clinic(session)
    c.hub.postcode = HUB[0]
    c.hospital.postcode = HOSPITAL[0]
    patient = await make_patient(session)
    patient.postcode = HOME[0]
    await session.flush()
    return c, patient


async def _booked(session: AsyncSession, c: Clinic, patient: Patient) -> list[Appointment]:
    modes = ("video_home", "video_site", "in_person", "video_home", "video_site")
    return [
        await make_appointment(
            session, c, start=START + timedelta(hours=n), mode=m, patient=patient
        )
        for n, m in enumerate(modes)
    ]


async def _stored(session: AsyncSession, appointment_id: int) -> dict[str, object]:
    row = await session.get(AppointmentTravel, appointment_id)
    assert row is not None
    await session.refresh(row)
    return {k: getattr(row, k) for k in COLUMNS}


def _one_way_km(a: tuple[str, int, int], b: tuple[str, int, int]) -> Decimal:
    found = land.road_km(land.bay_grid(), Point(a[1], a[2]), Point(b[1], b[2]))
    assert found is not None
    return Decimal(f"{found:.3f}")


async def test_recompute_writes_what_the_worker_writes_in_batches(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c, patient = await _setup(session)
    made = await _booked(session, c, patient)
    # Batches of two: five appointments take three, each picked up where the last ended.
    first = await recompute.recompute_all(sessionmaker, batch=2)
    assert (first.total, first.changed, first.new, first.left) == (5, 5, 5, 0)
    by_recompute = {a.id: await _stored(session, a.id) for a in made}
    for a in made:
        await records.compute(session, a.id)  # the worker's own path, one at a time
        assert await _stored(session, a.id) == by_recompute[a.id]
    again = await recompute.recompute_all(sessionmaker, batch=2)
    assert (again.total, again.changed, again.new) == (5, 0, 0)
    assert again.methods_before == again.methods_after == {"land": 5}
    assert "5 moved" not in again.describe()


async def test_recompute_says_what_moved(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c, patient = await _setup(session)
    made = await _booked(session, c, patient)
    await recompute.recompute_all(sessionmaker)
    before = {a.id: Decimal(str((await _stored(session, a.id))["avoided_km"])) for a in made}
    # The analyst's matrix knows Barrow (LA14) to the hospital, not to the hub.
    await records.import_matrix(
        session,
        f"district,site_id,road_km,drive_minutes\nLA14,{c.hospital.id},80.000,75\n",
    )
    summary = await recompute.recompute_all(sessionmaker)
    text_ = summary.describe()
    # The two video_home and the in_person record are all matrix now; a hub's record is as
    # good as its weaker leg (the land path to the hub), so it stays "land".
    assert summary.methods_before == {"land": 5}
    assert summary.methods_after == {"matrix": 3, "land": 2}
    assert "  land: 5 -> 2\n  matrix: 0 -> 3\n  3 moved from land to matrix" in text_
    hospital_km = _one_way_km(HOME, HOSPITAL)
    home = made[0].id
    assert before[home] == (2 * hospital_km).quantize(Decimal("0.01"))
    assert (await _stored(session, home))["avoided_km"] == Decimal("160.00")
    # Every record's baseline changed, the in_person one's too (though it avoids nothing).
    assert summary.changed == 5
    total_before = sum(before.values(), Decimal(0))
    assert summary.km_before == total_before
    assert f"km avoided, all records: {total_before:,.2f} -> " in text_
    # The biggest changes, largest first: the hub records moved by as much as the home ones
    # (160 - 2 x land) since only their baseline changed.
    moved = Decimal("160.00") - before[home]
    lines = text_.split("biggest changes in km avoided (round trip):\n")[1].splitlines()
    assert len(lines) == 4  # every record whose km avoided changed: not the in_person one
    # Of equal changes, the first appointments first.
    assert lines[0].startswith(f"  appointment {made[0].id}: {before[home]:,.2f} -> 160.00 km")
    assert f"({moved:+,.2f}), land -> matrix" in lines[0]
    assert any(f"appointment {made[1].id}: " in line and "land -> land" in line for line in lines)


class _Changing:
    """A routing engine during whose answer the appointment changes (as a navigator might
    change it while a slow engine answers). It answers once; a failing one (whose errors are
    not remembered, so it is asked again) changes the appointment at every ask."""

    def __init__(
        self, maker: async_sessionmaker[AsyncSession], appointment_id: int, *, fails: bool
    ) -> None:
        self.maker, self.appointment_id, self.fails = maker, appointment_id, fails
        self.asked = 0

    async def leg(self, journey: Journey) -> Leg | None:
        self.asked += 1
        async with self.maker() as session, session.begin():
            a = await session.get(Appointment, self.appointment_id)
            assert a is not None
            a.medium = "telephone" if a.medium != "telephone" else "video"
        if self.fails:
            raise RuntimeError("the engine went away")
        return Leg(Decimal("80.000"), Decimal("70.00"), "osrm", "high")


async def test_a_change_while_estimating_is_estimated_again_or_left_to_the_worker(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    c, patient = await _setup(session)
    a = await make_appointment(session, c, start=START, mode="video_home", patient=patient)
    changing = _Changing(sessionmaker, a.id, fails=False)
    once = await recompute.recompute_all(sessionmaker, extra=[changing])
    # Estimated again from the new inputs, with the engine's answer for the same journey.
    assert (once.total, once.left, changing.asked) == (1, 0, 1)
    stored = await _stored(session, a.id)
    assert (stored["method"], stored["actual_km"]) == ("osrm", Decimal(0))  # by telephone
    # One that changes at every estimate is not written from stale inputs: the worker,
    # which its change queued, has it.
    await session.refresh(a)
    before = await _stored(session, a.id)
    restless = _Changing(sessionmaker, a.id, fails=True)
    summary = await recompute.recompute_all(sessionmaker, extra=[restless])
    assert (summary.total, summary.left, restless.asked) == (0, 1, 3)
    assert "1 left to the worker" in summary.describe()
    assert await _stored(session, a.id) == before
    assert a.id in await records.stale(session)


# OSRM's documented route response (api docs, "Route service"), trimmed to what is read.
ROUTE = {"code": "Ok", "routes": [{"distance": 75123.4, "duration": 4012.5}], "waypoints": []}


class _Osrm(ThreadingHTTPServer):
    seen: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Osrm

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        payload = json.dumps(ROUTE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def osrm() -> Iterator[tuple[str, _Osrm]]:
    """An OSRM-shaped server on loopback: every route is 75.1234 km, 66.875 minutes."""
    server = _Osrm(("127.0.0.1", 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def test_recompute_asks_osrm_first_once_per_journey(
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    osrm: tuple[str, _Osrm],
) -> None:
    base, server = osrm
    c, patient = await _setup(session)
    made = await _booked(session, c, patient)
    async with httpx.AsyncClient() as client:
        summary = await recompute.recompute_all(
            sessionmaker, extra=[OsrmEstimator(base, client)], batch=2
        )
    assert summary.methods_after == {"osrm": 5}
    # Five records, seven legs, two journeys (home to the hospital, home to the hub).
    assert len(server.seen) == 2
    for a in made:
        stored = await _stored(session, a.id)
        assert (stored["method"], stored["confidence"]) == ("osrm", "high")
    assert (await _stored(session, made[0].id))["avoided_km"] == Decimal("150.25")


async def _committed(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine)() as session, session.begin():
        c, patient = await _setup(session)
        a = await make_appointment(session, c, start=START, mode="video_home", patient=patient)
    return a.id


def test_the_command_uses_osrm_when_osrm_url_is_set(
    fresh_database: str,
    osrm: tuple[str, _Osrm],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio

    from telehealth.cli import main

    base, server = osrm

    async def committed() -> int:
        engine = create_engine(fresh_database)
        try:
            return await _committed(engine)
        finally:
            await engine.dispose()

    async def method(appointment_id: int) -> str | None:
        engine = create_engine(fresh_database)
        try:
            async with make_sessionmaker(engine)() as session:
                return await session.scalar(
                    select(AppointmentTravel.method).where(
                        AppointmentTravel.appointment_id == appointment_id
                    )
                )
        finally:
            await engine.dispose()

    appointment_id = asyncio.run(committed())
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    monkeypatch.setenv("TELEHEALTH_ENV", "test")
    monkeypatch.setenv("OSRM_URL", base)
    assert main(["travel", "recompute"]) == 0
    said = capsys.readouterr().out
    assert "recomputed 1 travel records" in said and "  osrm: 0 -> 1" in said, said
    assert "1 moved from no record to osrm" in said and len(server.seen) == 1
    assert asyncio.run(method(appointment_id)) == "osrm"


class _Prober:
    """A routing engine that, while it is asked, tries to lock the appointment's row from
    another connection without waiting, as a navigator's change would."""

    def __init__(self, engine: AsyncEngine, appointment_id: int) -> None:
        self.engine, self.appointment_id = engine, appointment_id
        self.locked: list[bool] = []

    async def leg(self, journey: Journey) -> Leg | None:
        async with self.engine.connect() as other:
            try:
                await other.execute(
                    text("SELECT 1 FROM appointments WHERE id = :id FOR UPDATE NOWAIT"),
                    {"id": self.appointment_id},
                )
                self.locked.append(True)
            except DBAPIError:
                self.locked.append(False)
            await other.rollback()
        return Leg(Decimal("80.000"), Decimal("70.00"), "osrm", "high")


async def test_no_lock_is_held_while_the_routing_engine_answers_on_postgresql(
    fresh_database: str,
) -> None:
    if not fresh_database.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    engine = create_engine(fresh_database)
    try:
        appointment_id = await _committed(engine)
        prober = _Prober(engine, appointment_id)
        summary = await recompute.recompute_all(make_sessionmaker(engine), extra=[prober])
        assert summary.methods_after == {"osrm": 1}
        assert prober.locked == [True]
    finally:
        await engine.dispose()
