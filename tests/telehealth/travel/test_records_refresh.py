"""The worker's travel refresh asks a routing engine with no transaction open, so a slow one
holds no lock (the appointment's queue row included) while it answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from scheduling.models import Appointment
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.travel import postcodes, records
from telehealth.travel.estimators import Journey
from telehealth.travel.maths import Leg
from telehealth.travel.models import AppointmentTravel
from tests.builders import make_appointment, make_clinic, make_patient

HOSPITAL = ("LA1 4RP", 347761, 461046)
HOME = ("LA14 1HA", 319800, 469400)
START = datetime(2030, 6, 4, 9, tzinfo=UTC)


class _Watched:
    """A sessionmaker that knows how many of its sessions are open."""

    def __init__(self, maker: async_sessionmaker[AsyncSession]) -> None:
        self.maker = maker
        self.open = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[AsyncSession]:
        async with self.maker() as session:
            self.open += 1
            try:
                yield session
            finally:
                self.open -= 1


class _Router:
    """A routing engine that checks nothing is open while it is asked, and can change the
    appointment meanwhile (as a navigator might)."""

    def __init__(self, watched: _Watched, change: int | None = None) -> None:
        self.watched = watched
        self.change = change
        self.open_while_asked: list[int] = []  # the chain swallows an estimator's errors

    @property
    def asked(self) -> int:
        return len(self.open_while_asked)

    async def leg(self, journey: Journey) -> Leg | None:
        self.open_while_asked.append(self.watched.open)
        if self.change is not None and self.asked == 1:
            async with self.watched() as session, session.begin():
                a = await session.get(Appointment, self.change)
                assert a is not None
                a.medium = "telephone"
        return Leg(Decimal("80.000"), Decimal("70.00"), "osrm", "high")


async def _queued(session: AsyncSession) -> int:
    await postcodes.store(session, [(p, 10, e, n) for p, e, n in (HOSPITAL, HOME)], source="t")
    c = await make_clinic(session)
    patient = await make_patient(session)
    patient.postcode = HOME[0]
    await session.flush()
    a = await make_appointment(session, c, start=START, mode="video_home", patient=patient)
    return a.id


async def test_the_routing_engine_runs_with_no_transaction_open(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    appointment_id = await _queued(session)
    watched = _Watched(sessionmaker)
    router = _Router(watched)
    assert await records.refresh(watched, extra=[router]) == 1  # type: ignore[arg-type]
    assert router.open_while_asked == [0]
    assert await records.stale(session) == []
    record = await session.get(AppointmentTravel, appointment_id)
    assert record is not None and (record.method, record.avoided_km) == ("osrm", Decimal("160"))


async def test_a_change_while_the_engine_runs_is_estimated_again(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    appointment_id = await _queued(session)
    watched = _Watched(sessionmaker)
    router = _Router(watched, change=appointment_id)
    assert await records.refresh(watched, extra=[router]) == 1  # type: ignore[arg-type]
    # The first answer was for the appointment before its change.
    assert router.open_while_asked == [0, 0]
    assert await records.stale(session) == []
    record = await session.get(AppointmentTravel, appointment_id)
    assert record is not None
    # Seen by telephone after all: the record says so, with the engine's baseline.
    assert record.method == "osrm"
    assert (record.baseline_km, record.actual_km) == (Decimal(160), Decimal(0))


class _Prober:
    """A routing engine that, while it is asked, tries to lock the appointment's queue row
    from another connection without waiting, as a second worker claiming it would."""

    def __init__(self, engine: AsyncEngine, appointment_id: int) -> None:
        self.engine = engine
        self.appointment_id = appointment_id
        self.claimed: list[bool] = []

    async def leg(self, journey: Journey) -> Leg | None:
        async with self.engine.connect() as other:
            try:
                await other.execute(
                    text("SELECT 1 FROM travel_queue WHERE appointment_id = :id FOR UPDATE NOWAIT"),
                    {"id": self.appointment_id},
                )
                self.claimed.append(True)
            except DBAPIError:
                self.claimed.append(False)
            await other.rollback()
        return Leg(Decimal("80.000"), Decimal("70.00"), "osrm", "high")


async def test_a_slow_routing_engine_blocks_no_other_worker_on_postgresql(
    fresh_database: str,
) -> None:
    if not fresh_database.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    engine = create_engine(fresh_database)
    try:
        maker = make_sessionmaker(engine)
        async with maker() as session, session.begin():
            appointment_id = await _queued(session)
        prober = _Prober(engine, appointment_id)
        assert await records.refresh(maker, extra=[prober]) == 1
        assert prober.claimed == [True]
    finally:
        await engine.dispose()
